//! The data lifecycle's SQL (SPEC §2, §6): retention applied in small batches (stored webhook
//! answers, call records, closed tickets' personal data and what copies it), the database's size
//! and giving space back, and the erasure of one phone number everywhere it may be kept.
//!
//! Each batch finds its rows with a read on the pool, outside the write turn, then writes them in
//! one short transaction that checks the same conditions again (and on PostgreSQL locks the rows,
//! skipping those another instance is pruning right now). Statements that name a batch's rows
//! take a list of fixed length, padded with repeats, so each is one text whatever the batch's
//! size: SQLite's write lane caches prepared statements by their text.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::AddAssign;

use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;

use super::{Backend, Store, StoreResult, WriteTx, queue, replays};
use crate::clock::Timestamp;
use crate::phone::{PhoneNumber, mask_number_in};
use crate::tickets::search_fold;

/// Rows written in one transaction: small enough that SQLite's one writer is never held for long.
pub const BATCH: usize = 500;

/// What stands where personal data was erased for its time (a note's text, a web appeal's words,
/// the copy of an e-mail).
pub const ERASED_TEXT: &str = "[удалено по сроку хранения]";

/// The statuses of a ticket nobody works on any more: its personal data is kept for
/// HOTLINE_RETAIN_TICKETS after its last change.
const CLOSED: &str = "('resolved', 'closed', 'cancelled')";

/// Queue items still in play: their call and number are needed until they end.
const ACTIVE_ITEM: &str =
    "(SELECT 1 FROM queue_items q WHERE q.call_id = calls.id AND q.state IN ('waiting', 'assigned'))";

/// A call whose end is before `$1`, or that never reported one and has not moved since `$2` (a
/// provider's final callback can be lost; no call lasts that long).
const OVER: &str = "(ended_at < $1 OR (ended_at IS NULL AND updated_at < $2))";

/// What retention removed, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Calls whose stored webhook answers (kept for providers' retries) were removed, and how many answers.
    pub replay_calls: u64,
    pub replay_steps: u64,
    /// Call records removed, with their webhook log lines and any answers still stored.
    pub calls: u64,
    pub call_events: u64,
    pub call_steps: u64,
    /// Queue items of those calls, kept for the figures, that lost the call and the caller's number.
    pub queue_items: u64,
    /// Power-back subscriptions of incidents resolved long ago, and the calls that told them.
    pub power_back_subscriptions: u64,
    pub outbound_calls: u64,
    /// Lines of the live-update event log (queue changes carry callers' numbers).
    pub events: u64,
    /// What the internet reception's limits no longer look at.
    pub web_submissions: u64,
    /// Closed tickets whose personal data was erased, their notes and the e-mail copies of them.
    pub tickets: u64,
    pub notes: u64,
    pub mails: u64,
}

impl AddAssign for Pruned {
    fn add_assign(&mut self, o: Self) {
        self.replay_calls += o.replay_calls;
        self.replay_steps += o.replay_steps;
        self.calls += o.calls;
        self.call_events += o.call_events;
        self.call_steps += o.call_steps;
        self.queue_items += o.queue_items;
        self.power_back_subscriptions += o.power_back_subscriptions;
        self.outbound_calls += o.outbound_calls;
        self.events += o.events;
        self.web_submissions += o.web_submissions;
        self.tickets += o.tickets;
        self.notes += o.notes;
        self.mails += o.mails;
    }
}

/// One batch: how many rows it found to look at (fewer than [`BATCH`]: the kind is done) and what
/// it removed.
pub type Batch = (usize, Pruned);

/// `$first, ..., $first + BATCH - 1`.
fn in_list(first: usize) -> String {
    (first..first + BATCH).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Binds `ids` to an [`in_list`], padded with the first (a repeat in an IN list changes nothing).
fn bind_ids<'q>(mut query: Query<'q, Any, AnyArguments<'q>>, ids: &[String]) -> Query<'q, Any, AnyArguments<'q>> {
    debug_assert!(!ids.is_empty() && ids.len() <= BATCH);
    for i in 0..BATCH {
        query = query.bind(ids.get(i).unwrap_or(&ids[0]).clone());
    }
    query
}

fn bind_int_ids<'q>(mut query: Query<'q, Any, AnyArguments<'q>>, ids: &[i64]) -> Query<'q, Any, AnyArguments<'q>> {
    debug_assert!(!ids.is_empty() && ids.len() <= BATCH);
    for i in 0..BATCH {
        query = query.bind(*ids.get(i).unwrap_or(&ids[0]));
    }
    query
}

/// The ids `sql` selects inside the transaction, from the batch's `ids` bound from `$first` on
/// after `times` (`$1`, `$2`, ...).
async fn recheck(tx: &mut WriteTx, sql: &str, times: &[i64], ids: &[String]) -> StoreResult<Vec<String>> {
    let mut query = sqlx::query(sql);
    for t in times {
        query = query.bind(*t);
    }
    let rows = bind_ids(query, ids).fetch_all(&mut *tx).await?;
    Ok(rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>()?)
}

/// Runs `sql` with `text` as `$1` (when given) and `ids` from there on; returns the rows it changed.
async fn on_ids(tx: &mut WriteTx, sql: &str, text: Option<&str>, ids: &[String]) -> StoreResult<u64> {
    let mut query = sqlx::query(sql);
    if let Some(text) = text {
        query = query.bind(text.to_string());
    }
    Ok(bind_ids(query, ids).execute(&mut *tx).await?.rows_affected())
}

impl Store {
    async fn candidate_ids(&self, sql: &str, times: &[i64]) -> StoreResult<Vec<String>> {
        let mut query = sqlx::query_scalar::<_, String>(sql);
        for t in times {
            query = query.bind(*t);
        }
        Ok(query.bind(BATCH as i64).fetch_all(&self.pool).await?)
    }

    /// One round's batch: `work` on the candidates `ids` (rechecked there, in the write) unless
    /// there are none; how many were found, and what went.
    async fn prune_found<K: Send + Sync + 'static>(
        &self,
        ids: Vec<K>,
        work: impl for<'t> Fn(&'t mut WriteTx, &'t Vec<K>) -> BoxFuture<'t, StoreResult<Pruned>> + Send + Sync + 'static,
    ) -> StoreResult<Batch> {
        if ids.is_empty() {
            return Ok((0, Pruned::default()));
        }
        let found = ids.len();
        Ok((found, self.write_with(ids, work).await?))
    }

    /// Removes the stored webhook answers of calls that ended before `ended_before` (or went
    /// silent before `idle_before`): what a provider's retry of a step would be answered with.
    pub async fn prune_replays(&self, ended_before: Timestamp, idle_before: Timestamp) -> StoreResult<Batch> {
        let times = [ended_before.millis(), idle_before.millis()];
        // Drawn from the stored answers, which only hold the calls of the last RETAIN_REPLAYS.
        let ids = self
            .candidate_ids(
                "SELECT DISTINCT s.call_id FROM call_steps s JOIN calls c ON c.id = s.call_id \
                 WHERE c.ended_at < $1 OR (c.ended_at IS NULL AND c.updated_at < $2) LIMIT $3",
                &times,
            )
            .await?;
        self.prune_found(ids, move |tx, ids| {
            Box::pin(async move {
                let over = format!("SELECT id FROM calls WHERE id IN ({}) AND {OVER}", in_list(3));
                let calls = recheck(tx, &over, &times, ids).await?;
                if calls.is_empty() {
                    return Ok(Pruned::default());
                }
                let steps =
                    on_ids(tx, &format!("DELETE FROM call_steps WHERE call_id IN ({})", in_list(1)), None, &calls)
                        .await?;
                Ok(Pruned { replay_calls: calls.len() as u64, replay_steps: steps, ..Pruned::default() })
            })
        })
        .await
    }

    /// Removes the records of calls that ended before `ended_before` (or went silent before
    /// `idle_before`) with their webhook log and stored answers; a call whose queue item is still
    /// waiting or held (a call back not yet made) stays until it ends. Their queue items stay for
    /// the figures, without the call or the number, and the calls are counted by hour first
    /// (`call_tallies`), so today's figures stay as they were. Tickets keep the call's id.
    pub async fn prune_calls(&self, ended_before: Timestamp, idle_before: Timestamp) -> StoreResult<Batch> {
        let mut ids = self
            .candidate_ids(
                &format!(
                    "SELECT id FROM calls WHERE ended_at < $1 AND NOT EXISTS {ACTIVE_ITEM} ORDER BY ended_at LIMIT $2"
                ),
                &[ended_before.millis()],
            )
            .await?;
        if ids.len() < BATCH {
            // Calls the provider never reported ended: rare, and no index needed to find them.
            let idle = self
                .candidate_ids(
                    &format!(
                        "SELECT id FROM calls WHERE ended_at IS NULL AND updated_at < $1 AND NOT EXISTS {ACTIVE_ITEM} \
                         LIMIT $2"
                    ),
                    &[idle_before.millis()],
                )
                .await?;
            ids.extend(idle.into_iter().take(BATCH - ids.len()));
        }
        let times = [ended_before.millis(), idle_before.millis()];
        let lock = self.backend.skip_locked();
        self.prune_found(ids, move |tx, ids| {
                Box::pin(async move {
                    let sql = format!(
                        "SELECT id FROM calls WHERE id IN ({}) AND {OVER} AND NOT EXISTS {ACTIVE_ITEM} {lock}",
                        in_list(3)
                    );
                    let calls = recheck(tx, &sql, &times, ids).await?;
                    if calls.is_empty() {
                        return Ok(Pruned::default());
                    }
                    let list = in_list(1);
                    // The figures count calls by when they ended: what goes is counted by hour first.
                    let tally = format!(
                        "INSERT INTO call_tallies (hour, ended, contained) \
                         SELECT ended_at - ended_at % 3600000, COUNT(*), \
                         CAST(SUM(CASE WHEN queued_at IS NULL AND status = 'completed' THEN 1 ELSE 0 END) AS BIGINT) \
                         FROM calls WHERE id IN ({list}) AND ended_at IS NOT NULL GROUP BY ended_at - ended_at % 3600000 \
                         ON CONFLICT (hour) DO UPDATE SET ended = call_tallies.ended + excluded.ended, \
                         contained = call_tallies.contained + excluded.contained"
                    );
                    on_ids(tx, &tally, None, &calls).await?;
                    let unlink = format!(
                        "UPDATE queue_items SET call_id = NULL, caller_number = NULL, \
                         note = CASE WHEN ticket_id IS NULL THEN NULL ELSE note END WHERE call_id IN ({list})"
                    );
                    let queue_items = on_ids(tx, &unlink, None, &calls).await?;
                    let call_steps =
                        on_ids(tx, &format!("DELETE FROM call_steps WHERE call_id IN ({list})"), None, &calls).await?;
                    let call_events =
                        on_ids(tx, &format!("DELETE FROM call_events WHERE call_id IN ({list})"), None, &calls).await?;
                    let removed = on_ids(tx, &format!("DELETE FROM calls WHERE id IN ({list})"), None, &calls).await?;
                    Ok(Pruned { calls: removed, call_events, call_steps, queue_items, ..Pruned::default() })
                })
            })
            .await
    }

    /// Removes the power-back subscriptions (a caller's number, to ring when the power returns)
    /// of incidents resolved before `resolved_before` whose calls all ended before it, with those
    /// calls and their attempts.
    pub async fn prune_power_back(&self, resolved_before: Timestamp) -> StoreResult<Batch> {
        const TOLD: &str = "NOT EXISTS (SELECT 1 FROM outbound_calls o WHERE o.subscription_id = p.id \
                            AND (o.ended_at IS NULL OR o.ended_at >= $1))";
        let ids = self
            .candidate_ids(
                &format!(
                    "SELECT p.id FROM power_back_subscriptions p JOIN incidents i ON i.id = p.incident_id \
                     WHERE i.status = 'resolved' AND i.resolved_at < $1 AND {TOLD} LIMIT $2"
                ),
                &[resolved_before.millis()],
            )
            .await?;
        let lock = self.backend.skip_locked();
        self.prune_found(ids, move |tx, ids| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT id FROM power_back_subscriptions p WHERE id IN ({}) AND incident_id IN \
                         (SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < $1) AND {TOLD} {lock}",
                    in_list(2)
                );
                let subscriptions = recheck(tx, &sql, &[resolved_before.millis()], ids).await?;
                if subscriptions.is_empty() {
                    return Ok(Pruned::default());
                }
                let list = in_list(1);
                let attempts = format!(
                    "DELETE FROM outbound_attempts WHERE outbound_id IN \
                         (SELECT id FROM outbound_calls WHERE subscription_id IN ({list}))"
                );
                on_ids(tx, &attempts, None, &subscriptions).await?;
                let outbound_calls = on_ids(
                    tx,
                    &format!("DELETE FROM outbound_calls WHERE subscription_id IN ({list})"),
                    None,
                    &subscriptions,
                )
                .await?;
                let removed = on_ids(
                    tx,
                    &format!("DELETE FROM power_back_subscriptions WHERE id IN ({list})"),
                    None,
                    &subscriptions,
                )
                .await?;
                Ok(Pruned { power_back_subscriptions: removed, outbound_calls, ..Pruned::default() })
            })
        })
        .await
    }

    /// Removes lines of the live-update event log from before `before`, except the newest (ids
    /// must keep rising: see `prune_events`).
    pub async fn prune_event_log(&self, before: Timestamp) -> StoreResult<Batch> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM events WHERE at < $1 AND id < (SELECT MAX(id) FROM events) ORDER BY id LIMIT $2",
        )
        .bind(before.millis())
        .bind(BATCH as i64)
        .fetch_all(&self.pool)
        .await?;
        self.prune_found(ids, |tx, ids| {
            Box::pin(async move {
                let sql = format!("DELETE FROM events WHERE id IN ({})", in_list(1));
                let events = bind_int_ids(sqlx::query(&sql), ids).execute(&mut *tx).await?.rows_affected();
                Ok(Pruned { events, ..Pruned::default() })
            })
        })
        .await
    }

    /// Removes what the internet reception accepted before `before` (its limits look back a day
    /// at most, and only new submissions sweep it otherwise).
    pub async fn prune_web_submissions(&self, before: Timestamp) -> StoreResult<Pruned> {
        let removed = self
            .write_with((), move |tx, ()| {
                Box::pin(async move {
                    let done = sqlx::query("DELETE FROM web_submissions WHERE at < $1")
                        .bind(before.millis())
                        .execute(&mut *tx)
                        .await?;
                    Ok(done.rows_affected())
                })
            })
            .await?;
        Ok(Pruned { web_submissions: removed, ..Pruned::default() })
    }

    /// Erases the personal data of tickets closed (resolved, closed or cancelled) and unchanged
    /// since before `closed_before`: the caller's number, the address and the recording link go;
    /// notes' texts, the words of web and hand-made tickets (people's own, often with a name), the
    /// dispatcher's resolution note and the e-mail copies become [`ERASED_TEXT`]. The ticket, its
    /// number, category, priority, settlement, times and the audit trail stay, and so do the
    /// IVR's own descriptions of phone tickets.
    pub async fn prune_tickets(&self, closed_before: Timestamp, now: Timestamp) -> StoreResult<Batch> {
        let ids = self
            .candidate_ids(
                &format!(
                    "SELECT id FROM tickets WHERE personal_data_erased_at IS NULL AND updated_at < $1 \
                     AND status IN {CLOSED} ORDER BY updated_at LIMIT $2"
                ),
                &[closed_before.millis()],
            )
            .await?;
        let lock = self.backend.skip_locked();
        self.prune_found(ids, move |tx, ids| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT id, number, channel, description FROM tickets WHERE id IN ({}) \
                         AND personal_data_erased_at IS NULL AND updated_at < $1 AND status IN {CLOSED} {lock}",
                    in_list(2)
                );
                let rows = bind_ids(sqlx::query(&sql).bind(closed_before.millis()), ids).fetch_all(&mut *tx).await?;
                let mut tickets = Vec::with_capacity(rows.len());
                for row in &rows {
                    let id: String = row.try_get("id")?;
                    let number: i64 = row.try_get("number")?;
                    let channel: String = row.try_get("channel")?;
                    let description = match channel.as_str() {
                        // The IVR wrote these from the caller's key presses: no one's words.
                        "phone" => row.try_get::<String, _>("description")?,
                        _ => ERASED_TEXT.to_string(),
                    };
                    sqlx::query(
                        "UPDATE tickets SET caller_number = NULL, address = NULL, recording_url = NULL, \
                             description = $1, search_text = $2, personal_data_erased_at = $3 WHERE id = $4",
                    )
                    .bind(&description)
                    .bind(search_fold(&format!("{number} {description}")))
                    .bind(now.millis())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                    tickets.push(id);
                }
                if tickets.is_empty() {
                    return Ok(Pruned::default());
                }
                let list = in_list(2);
                let erased = Some(ERASED_TEXT);
                let notes = on_ids(
                    tx,
                    &format!("UPDATE ticket_notes SET body = $1 WHERE ticket_id IN ({list})"),
                    erased,
                    &tickets,
                )
                .await?;
                let resolution = format!(
                    "UPDATE escalations SET resolution_note = $1 WHERE ticket_id IN ({list}) \
                         AND resolution_note IS NOT NULL"
                );
                on_ids(tx, &resolution, erased, &tickets).await?;
                let mails = format!(
                    "UPDATE outbox SET body = $1 WHERE escalation_id IN \
                         (SELECT id FROM escalations WHERE ticket_id IN ({list}))"
                );
                let mails = on_ids(tx, &mails, erased, &tickets).await?;
                // A ticket's own item needs no number to be served (a closed ticket's may
                // still wait: closing does not take it out); a caller's, until it ends.
                let items = format!(
                    "UPDATE queue_items SET caller_number = NULL, note = NULL WHERE ticket_id IN ({}) \
                         AND (kind = 'ticket' OR state IN ('done', 'abandoned', 'cancelled'))",
                    in_list(1)
                );
                let queue_items = on_ids(tx, &items, None, &tickets).await?;
                Ok(Pruned { tickets: tickets.len() as u64, notes, mails, queue_items, ..Pruned::default() })
            })
        })
        .await
    }

    /// The database's size in bytes: SQLite's pages in use and free, PostgreSQL's database on disk.
    pub async fn database_size(&self) -> StoreResult<i64> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let mut conn = self.pool.acquire().await?;
                let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *conn).await?;
                let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut *conn).await?;
                pages * size
            }
            Backend::Postgres => {
                sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
                    .fetch_one(&self.pool)
                    .await?
            }
        })
    }

    /// Gives the space of removed rows back. SQLite: incremental auto-vacuum, which an existing
    /// file only takes on with one full VACUUM (done then, once: it rewrites the file and wants
    /// as much free disk again), after that `PRAGMA incremental_vacuum` frees the pages at once;
    /// the WAL is then checkpointed so the file itself shrinks. PostgreSQL: VACUUM of the tables
    /// retention prunes, which makes their space reusable and returns what it can.
    pub async fn vacuum(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = self.pool.acquire().await?;
                let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum").fetch_one(&mut *conn).await?;
                // 2: INCREMENTAL.
                if mode != 2 {
                    sqlx::raw_sql("PRAGMA auto_vacuum = INCREMENTAL").execute(&mut *conn).await?;
                    sqlx::raw_sql("VACUUM").execute(&mut *conn).await?;
                }
                sqlx::raw_sql("PRAGMA incremental_vacuum").execute(&mut *conn).await?;
                sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await?;
            }
            Backend::Postgres => {
                // Not inside a transaction, which VACUUM refuses: one statement on its own.
                sqlx::raw_sql(
                    "VACUUM (ANALYZE) call_steps, call_events, calls, queue_items, tickets, ticket_notes, outbox, \
                     events, web_submissions, power_back_subscriptions, outbound_calls, outbound_attempts",
                )
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }
}

/// The tables and text columns an erasure looks through for a number (every column that can hold
/// one a caller gave), in the order it goes. The tables marked special are handled beside the
/// plain masking: a caller's own tickets lose their recording links, ended calls their stored
/// answers, waiting call backs are cancelled and power-back calls dropped.
pub const ERASED_COLUMNS: &[(&str, &[&str])] = &[
    ("tickets", &["caller_number", "address", "description", "recording_url", "search_text"]),
    ("ticket_notes", &["body"]),
    ("ticket_events", &["detail"]),
    ("calls", &["caller_number", "called_number", "state"]),
    ("call_steps", &["input"]),
    ("call_events", &["payload"]),
    ("queue_items", &["caller_number", "note"]),
    ("events", &["payload"]),
    ("escalations", &["resolution_note"]),
    ("escalation_log", &["detail"]),
    ("outbox", &["subject", "body", "last_error"]),
    ("outbound_calls", &["phone", "recipient_name", "last_error"]),
    ("outbound_attempts", &["error"]),
    ("power_back_subscriptions", &["phone"]),
    ("web_submissions", &["phone"]),
    ("login_failures", &["username"]),
];

/// The text columns an erasure leaves, by table, and why: ids and codes the product writes
/// itself, staff and reference data an administrator manages in their own screens (a staff
/// number is changed there, not erased as a caller's), secrets, and the audit of erasures, which
/// only ever holds masked numbers.
pub const KEPT_COLUMNS: &[(&str, &[&str], &str)] = &[
    ("_sqlx_migrations", &["description"], "the schema's history"),
    ("counters", &["name"], "names of counters"),
    ("secrets", &["name", "value"], "random keys"),
    ("sessions", &["token_hash", "user_id"], "hashes and ids"),
    ("users", &["id", "username", "password_hash", "role", "email"], "staff accounts"),
    ("operators", &["user_id", "status", "pause_reason", "contact"], "staff and their phones"),
    ("crews", &["id", "name", "phone", "email", "status"], "field crews"),
    ("settlements", &["name", "kind", "district", "postcode", "search_name"], "reference data"),
    ("planned_outages", &["id", "streets", "reason"], "reference data"),
    ("connection_applications", &["number", "applicant", "status"], "imported reference data"),
    ("incidents", &["id", "status", "crew_id"], "ids and codes"),
    ("switches", &["name", "value", "updated_by"], "settings and staff"),
    ("call_tallies", &[], "counts only"),
    ("audit_log", &["actor", "action", "subject", "detail"], "masked numbers only"),
    ("tickets", &["id", "category", "status", "channel", "incident_id", "call_id", "assignee_id"], "ids and codes"),
    ("ticket_notes", &["id", "ticket_id", "author"], "ids and staff"),
    ("ticket_events", &["ticket_id", "actor", "kind", "from_status", "to_status"], "ids, staff and codes"),
    ("calls", &["id", "provider_call_id", "dialect", "status"], "ids and codes"),
    ("call_steps", &["call_id"], "ids (the answers are packed: an erasure unpacks and searches them)"),
    ("call_events", &["call_id", "kind", "dedup_key"], "ids and codes"),
    (
        "queue_items",
        &["id", "kind", "ticket_id", "call_id", "category", "state", "operator_id", "disposition"],
        "ids and codes",
    ),
    ("events", &["topic", "kind", "subject_id"], "ids and codes"),
    (
        "escalations",
        &["id", "ticket_id", "dedup_key", "state", "policy", "policy_snapshot", "acknowledged_by", "crew_id"],
        "ids, codes and staff",
    ),
    ("escalation_steps", &["escalation_id", "recipients", "channel", "targets"], "staff"),
    ("policy_snapshots", &["digest", "body"], "escalation policies (staff)"),
    ("escalation_log", &["escalation_id", "actor", "kind"], "ids, staff and codes"),
    (
        "outbox",
        &["id", "dedup_key", "escalation_id", "purpose", "channel", "recipient_name", "recipient_email"],
        "ids, codes and staff",
    ),
    (
        "outbound_calls",
        &[
            "id",
            "dedup_key",
            "purpose",
            "escalation_id",
            "subscription_id",
            "recipient_email",
            "script",
            "status",
            "provider_sid",
            "call_id",
        ],
        "ids, codes and staff",
    ),
    ("outbound_attempts", &["outbound_id", "provider_sid"], "ids"),
    ("power_back_subscriptions", &["id", "incident_id", "call_id", "ticket_id"], "ids"),
    ("web_submissions", &["id", "client", "text_digest"], "addresses and digests"),
    ("login_failures", &["id", "address"], "ids and addresses"),
];

/// A row's key: the tables erasure masks plainly have one column, text or integer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Text(String),
    Int(i64),
}

/// A table masked plainly: every listed column of a matching row goes through [`mask_number_in`].
struct Plain {
    table: &'static str,
    key: &'static str,
    int_key: bool,
    columns: &'static [&'static str],
}

const PLAIN: &[Plain] = &[
    Plain { table: "ticket_notes", key: "id", int_key: false, columns: &["body"] },
    Plain { table: "ticket_events", key: "id", int_key: true, columns: &["detail"] },
    Plain { table: "calls", key: "id", int_key: false, columns: &["caller_number", "called_number", "state"] },
    Plain { table: "call_events", key: "id", int_key: true, columns: &["payload"] },
    Plain { table: "events", key: "id", int_key: true, columns: &["payload"] },
    Plain { table: "escalations", key: "id", int_key: false, columns: &["resolution_note"] },
    Plain { table: "escalation_log", key: "id", int_key: true, columns: &["detail"] },
    Plain { table: "outbox", key: "id", int_key: false, columns: &["subject", "body", "last_error"] },
    Plain { table: "outbound_calls", key: "id", int_key: false, columns: &["phone", "recipient_name", "last_error"] },
    Plain { table: "outbound_attempts", key: "id", int_key: true, columns: &["error"] },
    Plain { table: "web_submissions", key: "id", int_key: false, columns: &["phone"] },
    Plain { table: "login_failures", key: "id", int_key: false, columns: &["username"] },
];

/// One row's worth of an erasure's work.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Work {
    /// A ticket that mentions the number (or is that caller's: then also its notes and recording).
    Ticket(String),
    /// A queue item with the number: a call back still to be made is cancelled.
    QueueItem(String),
    /// A stored answer holding the number.
    Step(String, i64),
    /// A call from or to the number: its stored answers go once it has ended.
    CallReplays(String),
    /// A power-back subscription of the number: its pending call is dropped.
    Subscription(String),
    Plain(usize, Key),
}

/// What an erasure changed, by kind (table, or what was done): rows.
pub type Erased = BTreeMap<String, u64>;

impl Store {
    /// Everything that may hold `phone` now, found by reads outside the write turn: every erasable
    /// column containing its significant digits, and that caller's own tickets.
    async fn erasure_work(&self, phone: &PhoneNumber) -> StoreResult<BTreeSet<Work>> {
        let like = format!("%{}%", phone.significant_digits());
        let mut work = BTreeSet::new();
        let texts = |sql: String| {
            let like = like.clone();
            async move { sqlx::query_scalar::<_, String>(&sql).bind(like).fetch_all(&self.pool).await }
        };
        let own: Vec<String> = sqlx::query_scalar("SELECT id FROM tickets WHERE caller_number = $1")
            .bind(phone.as_str())
            .fetch_all(&self.pool)
            .await?;
        work.extend(own.into_iter().map(Work::Ticket));
        for column in ["caller_number", "address", "description", "recording_url", "search_text"] {
            work.extend(
                texts(format!("SELECT id FROM tickets WHERE {column} LIKE $1")).await?.into_iter().map(Work::Ticket),
            );
        }
        for column in ["caller_number", "note"] {
            let ids = texts(format!("SELECT id FROM queue_items WHERE {column} LIKE $1")).await?;
            work.extend(ids.into_iter().map(Work::QueueItem));
        }
        for column in ["caller_number", "called_number"] {
            let ids = texts(format!("SELECT id FROM calls WHERE {column} LIKE $1")).await?;
            work.extend(ids.into_iter().map(Work::CallReplays));
        }
        let steps = self.stored_answers_containing(phone.significant_digits()).await?;
        work.extend(steps.into_iter().map(|(call_id, seq)| Work::Step(call_id, seq)));
        let inputs = sqlx::query("SELECT call_id, seq FROM call_steps WHERE input LIKE $1")
            .bind(&like)
            .fetch_all(&self.pool)
            .await?;
        for row in &inputs {
            work.insert(Work::Step(row.try_get("call_id")?, row.try_get("seq")?));
        }
        let subscriptions = texts("SELECT id FROM power_back_subscriptions WHERE phone LIKE $1".into()).await?;
        work.extend(subscriptions.into_iter().map(Work::Subscription));
        for (index, plain) in PLAIN.iter().enumerate() {
            for column in plain.columns {
                let sql = format!("SELECT {} FROM {} WHERE {column} LIKE $1", plain.key, plain.table);
                let rows = sqlx::query(&sql).bind(&like).fetch_all(&self.pool).await?;
                for row in &rows {
                    let key = if plain.int_key { Key::Int(row.try_get(0)?) } else { Key::Text(row.try_get(0)?) };
                    work.insert(Work::Plain(index, key));
                }
            }
        }
        Ok(work)
    }

    /// Replaces `phone` by its masked form (`+7910***4567`) everywhere it is kept (see
    /// [`ERASED_COLUMNS`]), in batches; the caller's tickets lose their recording links, their
    /// ended calls the stored answers, a call back still waiting is cancelled and a power-back
    /// call still to be placed is dropped. Rows written meanwhile are caught by looking again.
    /// The erasure is audited by `actor` with the number masked and what changed; returns that.
    pub async fn erase_phone(&self, phone: &PhoneNumber, actor: &str, now: Timestamp) -> StoreResult<Erased> {
        let mut erased = Erased::new();
        // New rows with the number can arrive while it runs (the caller phones again): look again
        // until nothing is left, a few times at most.
        for _ in 0..3 {
            let work: Vec<Work> = self.erasure_work(phone).await?.into_iter().collect();
            let mut changed = 0;
            for chunk in work.chunks(BATCH) {
                let done = self
                    .write_with((chunk.to_vec(), phone.clone()), move |tx, (chunk, phone)| {
                        Box::pin(async move {
                            let mut done = Erased::new();
                            for item in chunk {
                                erase_in(tx, item, phone, now, &mut done).await?;
                            }
                            Ok(done)
                        })
                    })
                    .await?;
                for (kind, rows) in done {
                    changed += rows;
                    *erased.entry(kind).or_default() += rows;
                }
            }
            if changed == 0 {
                break;
            }
        }
        let detail = serde_json::json!({"changed": &erased}).to_string();
        self.write_with((actor.to_string(), phone.masked(), detail), move |tx, (actor, masked, detail)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, action, subject, detail) \
                     VALUES ($1, $2, 'personal_data_erased', $3, $4)",
                )
                .bind(now.millis())
                .bind(actor)
                .bind(masked)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(erased)
    }
}

fn count(done: &mut Erased, kind: &str, rows: u64) {
    if rows > 0 {
        *done.entry(kind.to_string()).or_default() += rows;
    }
}

/// [`masked_text`] of a column that may be null.
fn masked(text: &Option<String>, phone: &PhoneNumber) -> Option<String> {
    masked_text(text.as_deref()?, phone)
}

/// `text` with `phone` masked, if it held the number.
fn masked_text(text: &str, phone: &PhoneNumber) -> Option<String> {
    match mask_number_in(text, phone) {
        std::borrow::Cow::Owned(changed) => Some(changed),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

async fn erase_in(
    tx: &mut WriteTx,
    work: &Work,
    phone: &PhoneNumber,
    now: Timestamp,
    done: &mut Erased,
) -> StoreResult<()> {
    match work {
        Work::Ticket(id) => erase_ticket(tx, id, phone, done).await,
        Work::QueueItem(id) => {
            let Some(row) = sqlx::query("SELECT kind, state, caller_number, note FROM queue_items WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(());
            };
            let (kind, state): (String, String) = (row.try_get("kind")?, row.try_get("state")?);
            let (number, note): (Option<String>, Option<String>) =
                (row.try_get("caller_number")?, row.try_get("note")?);
            let (new_number, new_note) = (masked(&number, phone), masked(&note, phone));
            if new_number.is_none() && new_note.is_none() {
                return Ok(());
            }
            // A call back to a number that may no longer be kept cannot be made: it ends here.
            let cancel = kind == "callback" && matches!(state.as_str(), "waiting" | "assigned") && new_number.is_some();
            sqlx::query(
                "UPDATE queue_items SET caller_number = $1, note = $2, \
                 state = CASE WHEN $3 = 1 THEN 'cancelled' ELSE state END, \
                 finished_at = CASE WHEN $3 = 1 THEN $4 ELSE finished_at END WHERE id = $5",
            )
            .bind(new_number.or(number))
            .bind(new_note.or(note))
            .bind(i64::from(cancel))
            .bind(now.millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            count(done, "queue_items", 1);
            if cancel {
                count(done, "callbacks_cancelled", 1);
                let item = queue::item_in(tx, id).await?;
                queue::publish_item(tx, now, "cancelled", &item).await?;
            }
            Ok(())
        }
        Work::Step(call_id, seq) => {
            let ended: Option<i64> = sqlx::query_scalar("SELECT ended_at FROM calls WHERE id = $1")
                .bind(call_id)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
            if ended.is_some() {
                let gone = sqlx::query("DELETE FROM call_steps WHERE call_id = $1 AND seq = $2")
                    .bind(call_id)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                count(done, "call_steps", gone.rows_affected());
                return Ok(());
            }
            // A call still going may be retried: its answer keeps its bytes but the number.
            if replays::mask_step(tx, call_id, *seq, |text| masked_text(text, phone)).await? {
                count(done, "call_steps", 1);
            }
            Ok(())
        }
        Work::CallReplays(call_id) => {
            let gone = sqlx::query(
                "DELETE FROM call_steps WHERE call_id = $1 AND EXISTS \
                 (SELECT 1 FROM calls c WHERE c.id = $1 AND c.ended_at IS NOT NULL)",
            )
            .bind(call_id)
            .execute(&mut *tx)
            .await?;
            count(done, "call_steps", gone.rows_affected());
            // The call's own row is masked as a plain one.
            erase_plain(
                tx,
                PLAIN.iter().position(|p| p.table == "calls").unwrap_or_default(),
                &Key::Text(call_id.clone()),
                phone,
                done,
            )
            .await
        }
        Work::Subscription(id) => {
            let Some(row) = sqlx::query("SELECT incident_id, phone FROM power_back_subscriptions WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(());
            };
            let (incident, number): (String, Option<String>) = (row.try_get("incident_id")?, row.try_get("phone")?);
            let Some(mut new) = masked(&number, phone) else { return Ok(()) };
            // Nobody is rung at a number that may no longer be kept.
            let dropped = sqlx::query(
                "UPDATE outbound_calls SET status = 'dropped', ended_at = $1, claimed_until = NULL \
                 WHERE subscription_id = $2 AND status = 'pending'",
            )
            .bind(now.millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            count(done, "outbound_calls_dropped", dropped.rows_affected());
            // One number per incident: two erased numbers alike once masked stay apart by the row's id.
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM power_back_subscriptions WHERE incident_id = $1 AND phone = $2 AND id <> $3",
            )
            .bind(&incident)
            .bind(&new)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if taken > 0 {
                new = format!("{new} #{id}");
            }
            sqlx::query("UPDATE power_back_subscriptions SET phone = $1 WHERE id = $2")
                .bind(new)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            count(done, "power_back_subscriptions", 1);
            Ok(())
        }
        Work::Plain(index, key) => erase_plain(tx, *index, key, phone, done).await,
    }
}

/// Masks the number in the columns of one row of a [`PLAIN`] table.
async fn erase_plain(
    tx: &mut WriteTx,
    index: usize,
    key: &Key,
    phone: &PhoneNumber,
    done: &mut Erased,
) -> StoreResult<()> {
    let plain = &PLAIN[index];
    let columns = plain.columns.join(", ");
    let sql = format!("SELECT {columns} FROM {} WHERE {} = $1", plain.table, plain.key);
    let query = match key {
        Key::Text(id) => sqlx::query(&sql).bind(id.clone()),
        Key::Int(id) => sqlx::query(&sql).bind(*id),
    };
    let Some(row) = query.fetch_optional(&mut *tx).await? else { return Ok(()) };
    let mut values = Vec::with_capacity(plain.columns.len());
    let mut changed = false;
    for i in 0..plain.columns.len() {
        let value: Option<String> = row.try_get(i)?;
        match masked(&value, phone) {
            Some(new) => {
                changed = true;
                values.push(Some(new));
            }
            None => values.push(value),
        }
    }
    if !changed {
        return Ok(());
    }
    let sets: Vec<String> = plain.columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let sql =
        format!("UPDATE {} SET {} WHERE {} = ${}", plain.table, sets.join(", "), plain.key, plain.columns.len() + 1);
    let mut query = sqlx::query(&sql);
    for value in values {
        query = query.bind(value);
    }
    let query = match key {
        Key::Text(id) => query.bind(id.clone()),
        Key::Int(id) => query.bind(*id),
    };
    query.execute(&mut *tx).await?;
    count(done, plain.table, 1);
    Ok(())
}

/// A ticket that mentions the number: it is masked in every field; when the ticket is that
/// caller's, its recording link goes and its notes are masked too.
async fn erase_ticket(tx: &mut WriteTx, id: &str, phone: &PhoneNumber, done: &mut Erased) -> StoreResult<()> {
    let Some(row) = sqlx::query(
        "SELECT number, caller_number, address, description, recording_url, search_text FROM tickets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(());
    };
    let number: i64 = row.try_get("number")?;
    let caller: Option<String> = row.try_get("caller_number")?;
    let address: Option<String> = row.try_get("address")?;
    let description: String = row.try_get("description")?;
    let recording: Option<String> = row.try_get("recording_url")?;
    let search: String = row.try_get("search_text")?;
    let own = caller.as_deref().and_then(|c| PhoneNumber::parse(c).ok()).is_some_and(|c| &c == phone);
    let new_caller = masked(&caller, phone).or(caller.clone());
    let new_address = masked(&address, phone).or(address.clone());
    let new_description = mask_number_in(&description, phone).into_owned();
    // The caller's own voice, whatever it says.
    let new_recording = if own { None } else { masked(&recording, phone).or(recording.clone()) };
    let fields_changed =
        (&new_caller, &new_address, &new_description, &new_recording) != (&caller, &address, &description, &recording);
    // The search text may hold the number when no field shows it any more (a description the
    // IVR filled in later): it is made again from the fields as a new ticket's is.
    if fields_changed || matches!(mask_number_in(&search, phone), std::borrow::Cow::Owned(_)) {
        let search_text = search_fold(&format!(
            "{number} {new_description} {} {}",
            new_address.as_deref().unwrap_or(""),
            new_caller.as_deref().unwrap_or("")
        ));
        sqlx::query(
            "UPDATE tickets SET caller_number = $1, address = $2, description = $3, recording_url = $4, \
             search_text = $5 WHERE id = $6",
        )
        .bind(new_caller)
        .bind(new_address)
        .bind(new_description)
        .bind(new_recording)
        .bind(search_text)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        count(done, "tickets", 1);
    }
    if own {
        let notes =
            sqlx::query("SELECT id, body FROM ticket_notes WHERE ticket_id = $1").bind(id).fetch_all(&mut *tx).await?;
        for note in &notes {
            let body: Option<String> = note.try_get("body")?;
            if let Some(new) = masked(&body, phone) {
                let note_id: String = note.try_get("id")?;
                sqlx::query("UPDATE ticket_notes SET body = $1 WHERE id = $2")
                    .bind(new)
                    .bind(note_id)
                    .execute(&mut *tx)
                    .await?;
                count(done, "ticket_notes", 1);
            }
        }
    }
    Ok(())
}
