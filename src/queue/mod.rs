//! The operator queue: live calls, callbacks and tickets waiting for a person, handed out one
//! at a time in a fixed order (hazards strictly first, then by effective wait), with wrap-up,
//! leases that return a silent operator's item, and honest wait estimates.

pub mod http;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::text_enum::text_enum;
use crate::tickets::{Category, Priority, Status, Ticket, TicketNumber};

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
    #[schema(value_type = Option<String>)]
    pub ticket_number: Option<TicketNumber>,
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

impl NewItem {
    /// A caller on the line waiting for an operator: with the ticket the call made or is linked
    /// to, in its category and priority (a hazard is served first); without one, as a question.
    pub fn live_call(call_id: &str, caller_number: Option<&str>, ticket: Option<&Ticket>, now: Timestamp) -> Self {
        NewItem {
            kind: Kind::LiveCall,
            ticket_id: ticket.map(|t| t.id.clone()),
            call_id: Some(call_id.to_string()),
            caller_number: caller_number.map(str::to_string),
            category: ticket.map_or(Category::Question, |t| t.category),
            priority: ticket.map_or(Category::Question.default_priority(), |t| t.priority),
            enqueued_at: now,
        }
    }
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
    let period = std::time::Duration::from_secs(5);
    crate::clock::every(period, "returning expired leases", (store, clock), |(store, clock)| {
        Box::pin(async move {
            let returned = store.expire_leases(clock.now()).await?;
            if returned > 0 {
                tracing::info!(returned, "items of silent operators went back to the queue");
            }
            Ok(())
        })
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
fn cancels_ticket(disposition: &str) -> bool {
    matches!(disposition, "duplicate" | "wrong_number" | "prank")
}

/// What became of a queue item, as far as its ticket is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ItemMove<'a> {
    /// An operator took it from the queue.
    Taken,
    /// Its operator gave it back.
    Released,
    /// Its operator stopped renewing the lease.
    LeaseExpired,
    /// The operator it was put through to could not be reached; `outcome` is the provider's.
    PutThroughFailed { outcome: &'a str },
    /// Wrapped up with this disposition.
    Completed { disposition: &'a str },
}

/// The move of a ticket that follows its queue item: the status it goes to, and the note its
/// history keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketMove {
    pub ticket_id: String,
    pub to: Status,
    pub detail: String,
}

/// The ticket moves with its item: in progress while an operator holds it, queued again when
/// it goes back, resolved (or cancelled, when there was nothing to do) at wrap-up. `None` for
/// an item without a ticket. The move is made where the lifecycle allows; a ticket already
/// further on (resolved by someone else meanwhile) is left as it is.
pub fn ticket_follows(item: &QueueItem, moved: ItemMove<'_>) -> Option<TicketMove> {
    let ticket_id = item.ticket_id.clone()?;
    let (to, detail) = match moved {
        ItemMove::Taken => (Status::InProgress, "taken from the queue".to_string()),
        ItemMove::Released => (Status::Queued, "released to the queue".to_string()),
        ItemMove::LeaseExpired => (Status::Queued, "lease expired: back to the queue".to_string()),
        ItemMove::PutThroughFailed { outcome } => {
            (Status::Queued, format!("put-through failed ({outcome}): back to the queue"))
        }
        ItemMove::Completed { disposition } => {
            let to = if cancels_ticket(disposition) { Status::Cancelled } else { Status::Resolved };
            (to, disposition.to_string())
        }
    };
    Some(TicketMove { ticket_id, to, detail })
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
    fn a_ticket_follows_its_item_and_is_cancelled_when_there_was_nothing_to_do() {
        let item = QueueItem {
            id: "q1".into(),
            kind: Kind::Ticket,
            ticket_id: Some("t1".into()),
            ticket_number: Some("100001".parse().unwrap()),
            call_id: None,
            caller_number: None,
            category: Category::Outage,
            priority: Priority::parse(2).unwrap(),
            enqueued_at: Timestamp(0),
            state: ItemState::Assigned,
            position: None,
            operator: Some("olga".into()),
            assigned_at: None,
            disposition: None,
        };
        let follows = |moved| ticket_follows(&item, moved).map(|m| (m.ticket_id, m.to, m.detail));
        let moved = |to, detail: &str| Some(("t1".to_string(), to, detail.to_string()));
        assert_eq!(follows(ItemMove::Taken), moved(Status::InProgress, "taken from the queue"));
        assert_eq!(follows(ItemMove::Released), moved(Status::Queued, "released to the queue"));
        assert_eq!(follows(ItemMove::LeaseExpired), moved(Status::Queued, "lease expired: back to the queue"));
        assert_eq!(
            follows(ItemMove::PutThroughFailed { outcome: "busy" }),
            moved(Status::Queued, "put-through failed (busy): back to the queue")
        );
        assert_eq!(follows(ItemMove::Completed { disposition: "resolved" }), moved(Status::Resolved, "resolved"));
        assert_eq!(follows(ItemMove::Completed { disposition: "prank" }), moved(Status::Cancelled, "prank"));
        let callback = QueueItem { ticket_id: None, ..item.clone() };
        assert_eq!(ticket_follows(&callback, ItemMove::Taken), None, "no ticket, nothing to move");
    }

    #[test]
    fn a_live_call_waits_in_its_ticket_category_or_as_a_question() {
        let now = Timestamp(1_000);
        let question = NewItem::live_call("c1", Some("+74852000000"), None, now);
        assert_eq!((question.kind, question.category, question.ticket_id), (Kind::LiveCall, Category::Question, None));
        assert_eq!(question.priority, Category::Question.default_priority());
        let hazard = Ticket {
            id: "t1".into(),
            number: "100001".parse().unwrap(),
            category: Category::Hazard,
            priority: Priority::parse(1).unwrap(),
            status: Status::Queued,
            channel: crate::tickets::Channel::Phone,
            caller_number: None,
            settlement: None,
            address: None,
            description: String::new(),
            recording_url: None,
            recording_duration_s: None,
            incident_id: None,
            call_id: None,
            assignee: None,
            created_at: now,
            updated_at: now,
        };
        let item = NewItem::live_call("c1", None, Some(&hazard), now);
        assert_eq!(
            (item.category, item.priority, item.ticket_id.as_deref()),
            (Category::Hazard, hazard.priority, Some("t1"))
        );
        assert_eq!((item.call_id.as_deref(), item.enqueued_at), (Some("c1"), now));
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
