//! The data lifecycle (SPEC §2, §6): what callers leave behind is kept only as long as the
//! retention settings say, applied every hour by the server and at once by `hotline prune`; and
//! one number's personal data is erased on request (`hotline erase`, the endpoint in [`http`]).

pub mod http;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::clock::{Clock, Timestamp};
use crate::phone::PhoneNumber;
use crate::store::{BATCH, Erased, Pruned, Store, StoreError};

/// How often the server applies the retention settings.
pub const APPLIED_EVERY: Duration = Duration::from_secs(3600);

/// A call that never reported its end and has not moved for this long is over: no call lasts a
/// day, and a provider's final callback can be lost.
pub const IDLE_CALL: Duration = Duration::from_secs(24 * 3600);

/// What the internet reception's limits look back at (SPEC §7): a day.
const WEB_LIMITS_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The event log is swept to a week by the live updates anyway (`live::KEEP`): retention only
/// needs to go through it when calls are kept for less.
const EVENT_LOG_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// The retention settings: HOTLINE_RETAIN_REPLAYS, HOTLINE_RETAIN_CALLS, HOTLINE_RETAIN_TICKETS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// What a call's webhooks were answered with, kept after the call ends for providers' retries.
    pub replays: Duration,
    /// Call records: numbers, menu paths, webhook logs, and what else names the call's caller.
    pub calls: Duration,
    /// Personal data on tickets closed this long ago (caller number, address, recording, notes).
    pub tickets: Duration,
    /// How often the server applies them ([`APPLIED_EVERY`]; tests go faster).
    pub every: Duration,
}

fn before(now: Timestamp, age: Duration) -> Timestamp {
    Timestamp(now.millis().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)))
}

/// Runs `batch` until a round finds fewer rows than a batch holds; each batch is its own short
/// write, so the calls' writes go on between them.
async fn until_done<F, Fut>(kind: &str, total: &mut Pruned, mut batch: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(usize, Pruned), StoreError>>,
{
    loop {
        let started = std::time::Instant::now();
        let (found, pruned) = batch().await?;
        if found > 0 {
            tracing::debug!(kind, found, took_ms = started.elapsed().as_millis() as u64, "a retention batch");
        }
        let changed = pruned != Pruned::default();
        *total += pruned;
        // Rows found but left (another instance is pruning them): the next round sees to them.
        if found < BATCH || !changed {
            return Ok(());
        }
    }
}

/// Applies the retention settings as of `now`: removes what their times have passed, kind by
/// kind, in batches. The call records go before the stored answers (a pruned call takes its
/// answers along), and what copies a ticket's personal data goes with the ticket's.
pub async fn apply(store: &Store, retention: &Retention, now: Timestamp) -> Result<Pruned, StoreError> {
    let mut total = Pruned::default();
    let calls = before(now, retention.calls);
    let idle_calls = before(now, retention.calls.max(IDLE_CALL));
    until_done("calls", &mut total, || store.prune_calls(calls, idle_calls)).await?;
    until_done("power_back", &mut total, || store.prune_power_back(calls)).await?;
    let replays = before(now, retention.replays);
    let idle_replays = before(now, retention.replays.max(IDLE_CALL));
    until_done("replays", &mut total, || store.prune_replays(replays, idle_replays)).await?;
    if retention.calls < EVENT_LOG_KEPT {
        until_done("event_log", &mut total, || store.prune_event_log(calls)).await?;
    }
    total += store.prune_web_submissions(before(now, WEB_LIMITS_WINDOW)).await?;
    let tickets = before(now, retention.tickets);
    until_done("tickets", &mut total, || store.prune_tickets(tickets, now)).await?;
    Ok(total)
}

/// Applies the retention settings every [`Retention::every`], the first time at once.
pub fn start(store: Store, retention: Retention, clock: Clock) -> tokio::task::JoinHandle<()> {
    crate::clock::every(retention.every, "applying the retention settings", (store, retention, clock), |state| {
        Box::pin(async move {
            let (store, retention, clock) = state;
            let pruned = apply(store, retention, clock.now()).await?;
            if pruned != Pruned::default() {
                tracing::info!(
                    replay_calls = pruned.replay_calls,
                    calls = pruned.calls,
                    tickets = pruned.tickets,
                    events = pruned.events,
                    "applied the retention settings"
                );
            }
            Ok(())
        })
    })
}

/// What `hotline prune` prints: what went, by kind.
pub struct PruneReport<'a>(pub &'a Pruned);

impl fmt::Display for PruneReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        writeln!(f, "replays: removed {} stored answers of {} ended calls", p.replay_steps, p.replay_calls)?;
        writeln!(
            f,
            "calls: removed {} call records with {} webhook log lines and {} stored answers; {} queue items kept \
             for the figures without the number",
            p.calls, p.call_events, p.call_steps, p.queue_items
        )?;
        writeln!(
            f,
            "power-back: removed {} subscriptions and {} calls of incidents resolved before the call retention",
            p.power_back_subscriptions, p.outbound_calls
        )?;
        writeln!(f, "events: removed {} lines of the live-update log", p.events)?;
        writeln!(f, "web submissions: removed {} older than the reception's limits look", p.web_submissions)?;
        write!(
            f,
            "tickets: erased the personal data of {} closed tickets ({} notes, {} e-mail copies)",
            p.tickets, p.notes, p.mails
        )
    }
}

/// A size in bytes for people: `12.3 MB`.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{size:.1} {}", UNITS[unit]) }
}

/// What an erasure changed, as the endpoint answers and `hotline erase` prints.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The number as it is now kept where it was: masked.
    #[schema(example = "+7910***4567")]
    pub phone: String,
    /// Rows changed by kind: a table's name (its rows that held the number), or what was done
    /// besides (`callbacks_cancelled`, `outbound_calls_dropped`; `call_steps` are stored answers
    /// removed).
    #[schema(example = json!({"calls": 2, "call_events": 9, "call_steps": 10, "tickets": 1, "queue_items": 1}))]
    pub changed: Erased,
    /// All rows changed.
    pub rows: u64,
}

/// Erases `phone`'s personal data everywhere, audited as done by `actor`.
pub async fn erase(store: &Store, phone: &PhoneNumber, actor: &str, now: Timestamp) -> Result<Erasure, StoreError> {
    let changed = store.erase_phone(phone, actor, now).await?;
    let rows = changed.values().sum();
    tracing::info!(phone = %phone.masked(), by = actor, rows, "erased a number's personal data");
    Ok(Erasure { phone: phone.masked(), changed, rows })
}

impl fmt::Display for Erasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "erased {}: {} rows changed", self.phone, self.rows)?;
        for (kind, rows) in &self.changed {
            writeln!(f, "  {kind}: {rows}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(8_800), "8.8 KB");
        assert_eq!(human_size(90_000_000), "90.0 MB");
    }

    #[test]
    fn a_cut_off_never_wraps() {
        assert_eq!(before(Timestamp(10_000), Duration::from_secs(3)), Timestamp(7_000));
        assert_eq!(before(Timestamp(10_000), Duration::ZERO), Timestamp(10_000));
        assert!(before(Timestamp(10_000), Duration::from_secs(u64::MAX / 4)) < Timestamp(0));
    }
}
