//! The operator queue: live calls, callbacks and tickets waiting for a person, handed out one
//! at a time in a fixed order (hazards strictly first, then by effective wait), with wrap-up,
//! leases that return a silent operator's item, and honest wait estimates.

pub mod http;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::text_enum::text_enum;
use crate::tickets::{Category, Priority};

text_enum! {
    pub enum Kind {
        /// A caller on the line.
        LiveCall = "live_call",
        /// A caller to ring back; keeps the place they had.
        Callback = "callback",
        /// Work without a caller on the line (theft reports, web appeals, tickets made by hand).
        Ticket = "ticket",
    }
}

text_enum! {
    pub enum ItemState {
        Waiting = "waiting",
        Assigned = "assigned",
        Done = "done",
        /// The caller hung up before an operator took the call.
        Abandoned = "abandoned",
        Cancelled = "cancelled",
    }
}

text_enum! {
    pub enum OperatorStatus {
        Available = "available",
        Paused = "paused",
        Offline = "offline",
        /// After an item, until its disposition is given.
        WrapUp = "wrap_up",
    }
}

/// A queue item as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct QueueItem {
    pub id: String,
    pub kind: Kind,
    pub ticket_id: Option<String>,
    pub ticket_number: Option<String>,
    pub call_id: Option<String>,
    pub caller_number: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub enqueued_at: Timestamp,
    pub state: ItemState,
    /// 1-based place in the serving order while waiting.
    pub position: Option<i64>,
    /// The operator holding it.
    pub operator: Option<String>,
    pub assigned_at: Option<Timestamp>,
    pub disposition: Option<String>,
}

/// What goes into the queue.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: Kind,
    pub ticket_id: Option<String>,
    pub call_id: Option<String>,
    pub caller_number: Option<String>,
    pub category: Category,
    pub priority: Priority,
    /// When the caller first started waiting: a callback keeps the time of the call it replaces.
    pub enqueued_at: Timestamp,
}

/// How waiting items are ordered, from the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordering {
    /// Seconds added to an item's wait by category (outage +300 s: an outage caller is served
    /// as if they had waited five minutes longer).
    pub offsets: Vec<(Category, i64)>,
}

impl Default for Ordering {
    fn default() -> Self {
        Self { offsets: vec![(Category::Outage, 300), (Category::Theft, 120)] }
    }
}

impl Ordering {
    /// Parses `outage=300,theft=120`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut offsets = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (category, seconds) =
                pair.split_once('=').ok_or_else(|| format!("'{pair}' is not CATEGORY=SECONDS"))?;
            let category: Category = category.trim().parse()?;
            let seconds: i64 = seconds
                .trim()
                .parse()
                .ok()
                .filter(|s: &i64| (0..=86_400).contains(s))
                .ok_or_else(|| format!("'{seconds}' is not a number of seconds from 0 to 86400"))?;
            offsets.push((category, seconds));
        }
        Ok(Self { offsets })
    }

    /// The tier an item waits in; a lower tier is served first, whatever the wait. Hazards come
    /// before everything else; within hazards and within the rest, people (a caller on the line,
    /// a caller to ring back) come before work without a caller (web appeals, theft recordings,
    /// tickets made by hand), so no amount of web submissions can delay a caller (SPEC §6):
    /// 0 hazard callers, 1 hazard tickets, 2 other callers, 3 other tickets.
    pub fn tier(&self, kind: Kind, category: Category) -> i64 {
        let hazard = if category == Category::Hazard { 0 } else { 2 };
        let without_caller = if kind == Kind::Ticket { 1 } else { 0 };
        hazard + without_caller
    }

    /// The key that orders a tier: earlier is served first.
    pub fn sort_key(&self, category: Category, enqueued_at: Timestamp) -> i64 {
        let offset = self.offsets.iter().find(|(c, _)| *c == category).map_or(0, |(_, s)| *s);
        enqueued_at.millis() - offset * 1000
    }
}

/// Returns items of operators who went silent to the queue every few seconds, so the queue
/// list shows them waiting again even before anyone asks for the next item.
pub fn start_lease_reaper(store: crate::store::Store, clock: crate::clock::Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.expire_leases(clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(returned = n, "items of silent operators went back to the queue"),
                Err(e) => tracing::warn!(error = %e, "returning expired leases failed"),
            }
        }
    })
}

/// The dispositions an operator chooses from at wrap-up, unless the settings name others.
pub const DEFAULT_DISPOSITIONS: &[&str] = &[
    "resolved",
    "outage_logged",
    "hazard_dispatched",
    "theft_report",
    "connection_info",
    "callback_needed",
    "duplicate",
    "wrong_number",
    "prank",
];

/// Why an operator is paused when a caller put through to their phone did not reach them, by
/// the provider's outcome of the dial: the reason their console shows.
pub fn put_through_pause_reason(outcome: &str) -> &'static str {
    match outcome {
        "busy" => "телефон занят: звонок не дошёл",
        "no-answer" => "не ответил на звонок",
        _ => "телефон недоступен: звонок не прошёл",
    }
}

/// Dispositions that mean there was nothing to do: the ticket is cancelled rather than resolved.
pub fn cancels_ticket(disposition: &str) -> bool {
    matches!(disposition, "duplicate" | "wrong_number" | "prank")
}

/// A waiting time as callers hear it: a range, never a falsely precise figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WaitRange {
    pub min_s: i64,
    pub max_s: i64,
}

impl WaitRange {
    /// The estimate as one figure: the middle of the range.
    pub fn likely_s(self) -> i64 {
        (self.min_s + self.max_s) / 2
    }

    /// «меньше минуты», «около двух минут», «от одной до двух минут», minutes rounded up.
    pub fn spoken(self) -> String {
        if self.max_s <= 60 {
            return "меньше минуты".to_string();
        }
        let minutes = |s: i64| u32::try_from((s + 59) / 60).unwrap_or(u32::MAX).max(1);
        crate::ivr::russian::minutes_range(minutes(self.min_s), minutes(self.max_s))
    }
}

/// Fewer handled items than this and the estimate is a safe range instead of a computation.
pub const MIN_SAMPLES: usize = 5;

/// Estimated wait for a caller with `ahead` items before them, `staffed` operators on shift and
/// `free` of them holding nothing. While fewer wait than operators are free, one takes the call
/// at once. Otherwise the caller waits for operators to finish: `ceil((ahead - free + 1) /
/// staffed)` rounds of the recent average handling time (with nobody on shift, as if one
/// were), said as a range around it. With too few samples the range is wide and cautious.
pub fn estimate_wait(ahead: i64, staffed: i64, free: i64, recent_handle_s: &[i64]) -> WaitRange {
    if ahead < free {
        return WaitRange { min_s: 0, max_s: 0 };
    }
    let staffed = staffed.max(1);
    let rounds = (ahead - free + staffed) / staffed;
    if recent_handle_s.len() < MIN_SAMPLES {
        // Without data, assume three minutes a caller and say a generous range.
        let likely = rounds * 180;
        return WaitRange { min_s: (likely / 2).max(30), max_s: (likely * 2).max(120) };
    }
    let average = recent_handle_s.iter().sum::<i64>() / recent_handle_s.len() as i64;
    let likely = rounds * average.max(30);
    WaitRange { min_s: (likely * 3 / 4).max(0), max_s: (likely * 5 / 4).max(60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_order_within_a_tier() {
        let ordering = Ordering::parse("outage=300, theft=120").unwrap();
        let t = Timestamp(1_000_000_000);
        assert!(ordering.sort_key(Category::Outage, t) < ordering.sort_key(Category::Theft, t));
        assert!(ordering.sort_key(Category::Question, t.plus_seconds(-200)) > ordering.sort_key(Category::Outage, t));
        assert_eq!(ordering.tier(Kind::LiveCall, Category::Hazard), 0);
        assert_eq!(ordering.tier(Kind::Ticket, Category::Hazard), 1, "a hazard from the web: after hazard callers");
        assert!(ordering.tier(Kind::Ticket, Category::Hazard) < ordering.tier(Kind::LiveCall, Category::Question));
        for kind in [Kind::LiveCall, Kind::Callback] {
            for category in [Category::Outage, Category::Theft, Category::Question, Category::Appeal] {
                assert!(
                    ordering.tier(kind, category) < ordering.tier(Kind::Ticket, Category::Appeal),
                    "a {kind} of {category} comes before web work"
                );
            }
        }
        assert_eq!(ordering.tier(Kind::LiveCall, Category::Outage), ordering.tier(Kind::Callback, Category::Question));
        assert!(Ordering::parse("lightning=5").is_err());
        assert!(Ordering::parse("outage=-5").is_err());
    }

    #[test]
    fn waits_are_ranges_and_cautious_without_data() {
        let cautious = estimate_wait(4, 1, 0, &[]);
        assert!(cautious.max_s >= 4 * cautious.min_s / 2 && cautious.max_s >= 120);
        assert!(estimate_wait(0, 0, 0, &[]).likely_s() > 120, "with nobody on shift the wait is long");
        let measured = estimate_wait(1, 2, 0, &[60, 60, 60, 60, 60]);
        assert_eq!(measured, WaitRange { min_s: 45, max_s: 75 });
        assert_eq!(estimate_wait(3, 2, 0, &[60; 5]), WaitRange { min_s: 90, max_s: 150 }, "two rounds");
        assert_eq!(estimate_wait(0, 1, 1, &[]), WaitRange { min_s: 0, max_s: 0 }, "a free operator answers at once");
        assert_eq!(estimate_wait(1, 3, 2, &[]), WaitRange { min_s: 0, max_s: 0 });
        assert_eq!(estimate_wait(2, 3, 1, &[60; 5]), WaitRange { min_s: 45, max_s: 75 }, "one free, two busy");
        assert_eq!(WaitRange { min_s: 0, max_s: 0 }.spoken(), "меньше минуты");
        assert_eq!(WaitRange { min_s: 45, max_s: 75 }.spoken(), "от одной до двух минут");
        assert_eq!(WaitRange { min_s: 10, max_s: 50 }.spoken(), "меньше минуты");
        assert_eq!(WaitRange { min_s: 600, max_s: 1260 }.spoken(), "от десяти до двадцати одной минуты");
        assert_eq!(WaitRange { min_s: 90, max_s: 120 }.spoken(), "около двух минут", "never «от двух до двух»");
        assert_eq!(WaitRange { min_s: 90, max_s: 360 }.spoken(), "от двух до шести минут");
    }
}
