//! Calls: one row per provider call, the stored answer of every step, the webhook log. A step
//! runs in one [`CallTx`], so its effects, the call's new state and the answer commit together.

use std::sync::LazyLock;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::outages;
use super::replays::{self, AnswerDictionary};
pub use super::tickets::TicketUpdate;
use super::{
    Backend, QueueFigures, SettlementQuery, Store, StoreError, StoreResult, WriteTx, new_id, queue, settlements,
    tickets,
};
use crate::calls::returning::{self, RECENT_TICKETS};
use crate::calls::{CallStatus, CallerId};
use crate::clock::Timestamp;
use crate::connection::Application;
use crate::escalation::policy::Policies;
use crate::outages::{Incident, PlannedOutage, StormInputs};
use crate::queue::{Kind, NewItem, Ordering, QueueItem};
use crate::settlements::Settlement;
use crate::telephony::Dialect;
use crate::tickets::{Category, TicketKey, TicketNumber};
use crate::tickets::{NewTicket, Ticket};

impl CallRecord {
    /// The caller's number when it is one a person can be rung back on (not withheld, not
    /// `anonymous`): what tickets record, returning callers are known by and call backs ring.
    pub fn callable_number(&self) -> Option<crate::phone::PhoneNumber> {
        self.caller_number.as_ref().and_then(CallerId::number).cloned()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub id: String,
    pub provider_call_id: String,
    pub dialect: Dialect,
    pub caller_number: Option<CallerId>,
    pub called_number: Option<String>,
    pub status: CallStatus,
    /// The IVR position as JSON (see `ivr::engine::CallState`).
    pub state: String,
    /// Steps answered so far: the provider's next step is this number.
    pub seq: i64,
    pub created_at: Timestamp,
    pub queued_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// A call as first seen.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub provider_call_id: &'a str,
    pub dialect: Dialect,
    pub caller_number: Option<&'a CallerId>,
    pub called_number: Option<&'a str>,
    pub status: CallStatus,
    pub state: &'a str,
}

/// A stored webhook answer, replayed as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub content_type: String,
    pub body: String,
}

fn call_from(row: &AnyRow) -> StoreResult<CallRecord> {
    let status: String = row.try_get("status")?;
    Ok(CallRecord {
        id: row.try_get("id")?,
        provider_call_id: row.try_get("provider_call_id")?,
        dialect: row.try_get::<String, _>("dialect")?.parse().map_err(StoreError::Invalid)?,
        caller_number: row.try_get::<Option<String>, _>("caller_number")?.as_deref().map(CallerId::parse),
        called_number: row.try_get("called_number")?,
        status: status.parse().map_err(StoreError::Invalid)?,
        state: row.try_get("state")?,
        seq: row.try_get("seq")?,
        created_at: Timestamp(row.try_get("created_at")?),
        queued_at: row.try_get::<Option<i64>, _>("queued_at")?.map(Timestamp),
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(Timestamp),
    })
}

const CALL_COLUMNS: &str = "id, provider_call_id, dialect, caller_number, called_number, status, state, seq, \
                            created_at, queued_at, ended_at";

/// The transaction [`Store::write`] hands its work: one webhook's, holding the call's row lock
/// until commit (on SQLite, a share of the write lane's batch: see `sqlite_lane`).
pub struct CallTx {
    pub(super) tx: WriteTx,
    pub(super) backend: Backend,
}

impl Store {
    pub async fn call(&self, id: &str) -> StoreResult<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(call_from).transpose()
    }

    pub async fn call_by_provider_id(&self, dialect: &str, provider_call_id: &str) -> StoreResult<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE dialect = $1 AND provider_call_id = $2");
        let row = sqlx::query(&sql).bind(dialect).bind(provider_call_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(call_from).transpose()
    }

    /// Row counts of every table a call step writes, for checking that a replay wrote nothing.
    pub async fn call_table_counts(&self) -> StoreResult<[i64; 9]> {
        let count = |table: &'static str| async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.pool).await
        };
        Ok([
            count("calls").await?,
            count("call_steps").await?,
            count("call_events").await?,
            count("tickets").await?,
            count("queue_items").await?,
            count("events").await?,
            count("incidents").await?,
            count("escalations").await?,
            count("escalation_steps").await?,
        ])
    }
}

impl CallTx {
    /// The call, created on first sight, locked for the rest of the transaction so two
    /// deliveries of one step are served one after the other. `likely_new` (the number's voice
    /// URL) tries the insert first; every later webhook finds its call in one round trip.
    pub async fn lock_or_create(
        &mut self,
        new: &NewCall<'_>,
        likely_new: bool,
        now: Timestamp,
    ) -> StoreResult<(CallRecord, bool)> {
        if !likely_new {
            if let Some(call) = self.lock_call(new).await? {
                return Ok((call, false));
            }
        }
        let sql = format!(
            "INSERT INTO calls (id, provider_call_id, dialect, caller_number, called_number, status, state, seq, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) \
             ON CONFLICT (dialect, provider_call_id) DO NOTHING RETURNING {CALL_COLUMNS}"
        );
        let inserted = sqlx::query(&sql)
            .bind(new_id())
            .bind(new.provider_call_id)
            .bind(new.dialect.as_str())
            .bind(new.caller_number.map(CallerId::as_str))
            .bind(new.called_number)
            .bind(new.status.as_str())
            .bind(new.state)
            .bind(now.millis())
            .fetch_optional(&mut self.tx)
            .await?;
        match inserted {
            Some(row) => Ok((call_from(&row)?, true)),
            // Known already (a redelivered entry, or created by a webhook committed meanwhile).
            None => Ok((self.lock_call(new).await?.ok_or_else(|| StoreError::NotFound("call".into()))?, false)),
        }
    }

    async fn lock_call(&mut self, new: &NewCall<'_>) -> StoreResult<Option<CallRecord>> {
        // SQLite already holds the database's write lock (BEGIN IMMEDIATE); PostgreSQL locks the row.
        let sql = match self.backend {
            Backend::Sqlite => format!("SELECT {CALL_COLUMNS} FROM calls WHERE dialect = $1 AND provider_call_id = $2"),
            Backend::Postgres => {
                format!("SELECT {CALL_COLUMNS} FROM calls WHERE dialect = $1 AND provider_call_id = $2 FOR UPDATE")
            }
        };
        let row = sqlx::query(&sql)
            .bind(new.dialect.as_str())
            .bind(new.provider_call_id)
            .fetch_optional(&mut self.tx)
            .await?;
        row.as_ref().map(call_from).transpose()
    }

    /// The answer step `seq` of `call` got, as it was sent.
    pub async fn stored_answer(&mut self, call: &CallRecord, seq: i64) -> StoreResult<Option<StoredAnswer>> {
        let row = sqlx::query(replays::ANSWER_OF_STEP).bind(&call.id).bind(seq).fetch_optional(&mut self.tx).await?;
        row.map(|row| {
            Ok(StoredAnswer {
                content_type: call.dialect.answer_content_type().into(),
                body: replays::unpack_row(&row)?,
            })
        })
        .transpose()
    }

    /// Everything a step leaves behind: what the webhook said (`input`, see `Inbound::logged`)
    /// beside the answer kept for redeliveries (packed with `dictionary`), and the call's new
    /// position. PostgreSQL takes both in one round trip, as one statement with a data-modifying
    /// CTE; SQLite's lane runs them in its own thread, where round trips cost nothing. Each
    /// statement takes the arguments it names (`$N`).
    pub async fn finish_step(
        &mut self,
        call: &CallRecord,
        seq: i64,
        input: &str,
        answer: &StoredAnswer,
        dictionary: &AnswerDictionary,
        now: Timestamp,
    ) -> StoreResult<()> {
        const ANSWER: &str =
            "INSERT INTO call_steps (call_id, seq, at, input, dictionary, answer) VALUES ($1, $2, $3, $4, $5, $6)";
        const MOVE: &str = "UPDATE calls SET status = $7, state = $8, seq = $9, updated_at = $3, queued_at = $10, \
                            ended_at = $11 WHERE id = $1";
        static POSTGRES: LazyLock<String> = LazyLock::new(|| format!("WITH answered AS ({ANSWER}) {MOVE}"));
        let statements: &[&str] = match self.backend {
            Backend::Sqlite => &[ANSWER, MOVE],
            Backend::Postgres => &[POSTGRES.as_str()],
        };
        let packed = dictionary.pack(&answer.body);
        for sql in statements {
            sqlx::query(sql)
                .bind(&call.id)
                .bind(seq)
                .bind(now.millis())
                .bind(input)
                .bind(dictionary.id)
                .bind(packed.as_slice())
                .bind(call.status.as_str())
                .bind(&call.state)
                .bind(call.seq)
                .bind(call.queued_at.map(Timestamp::millis))
                .bind(call.ended_at.map(Timestamp::millis))
                .execute(&mut self.tx)
                .await?;
        }
        Ok(())
    }

    pub async fn update_call(&mut self, call: &CallRecord, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE calls SET status = $1, state = $2, seq = $3, updated_at = $4, queued_at = $5, ended_at = $6 \
             WHERE id = $7",
        )
        .bind(call.status.as_str())
        .bind(&call.state)
        .bind(call.seq)
        .bind(now.millis())
        .bind(call.queued_at.map(Timestamp::millis))
        .bind(call.ended_at.map(Timestamp::millis))
        .bind(&call.id)
        .execute(&mut self.tx)
        .await?;
        Ok(())
    }

    /// Appends a webhook to the call's log; a redelivery (same key) adds nothing. Returns
    /// whether it was new.
    pub async fn log_event(
        &mut self,
        call_id: &str,
        now: Timestamp,
        kind: &str,
        dedup_key: &str,
        payload: &str,
    ) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO call_events (call_id, at, kind, dedup_key, payload) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (call_id, dedup_key) DO NOTHING",
        )
        .bind(call_id)
        .bind(now.millis())
        .bind(kind)
        .bind(dedup_key)
        .bind(payload)
        .execute(&mut self.tx)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Records the position said to a waiting caller; true when it is better than the last one
    /// said (so it is worth saying).
    pub async fn announce_position(&mut self, item_id: &str, position: i64) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE queue_items SET announced_position = $1 WHERE id = $2 \
             AND (announced_position IS NULL OR announced_position > $1)",
        )
        .bind(position)
        .bind(item_id)
        .execute(&mut self.tx)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    pub async fn create_ticket(&mut self, new: &NewTicket, now: Timestamp) -> StoreResult<Ticket> {
        tickets::insert_ticket(&mut self.tx, self.backend, new, now).await
    }

    /// A ticket that waits in the operator queue for a person (see `Store::create_queued_ticket`).
    pub async fn create_queued_ticket(
        &mut self,
        new: &NewTicket,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<Ticket> {
        tickets::insert_queued_ticket(&mut self.tx, self.backend, new, ordering, now).await
    }

    /// The caller's tickets since `since`, newest first.
    pub async fn caller_history(&mut self, caller_number: &str, since: Timestamp) -> StoreResult<Vec<Ticket>> {
        tickets::caller_tickets(&mut self.tx, caller_number, since, 20).await
    }

    pub async fn planned_between(
        &mut self,
        settlement_id: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<PlannedOutage>> {
        outages::planned_between(&mut self.tx, settlement_id, from, to).await
    }

    pub async fn open_incident(&mut self, settlement_id: i64) -> StoreResult<Option<Incident>> {
        outages::open_incident(&mut self.tx, settlement_id).await
    }

    pub async fn storm_inputs(&mut self) -> StoreResult<StormInputs> {
        outages::storm_inputs(&mut self.tx).await
    }

    pub async fn application(&mut self, number: &str) -> StoreResult<Option<Application>> {
        outages::application(&mut self.tx, number).await
    }

    pub async fn find_settlements(&mut self, query: &SettlementQuery) -> StoreResult<Vec<Settlement>> {
        settlements::find_settlements(&mut self.tx, query).await
    }

    pub async fn settlement_names(&mut self) -> StoreResult<Vec<String>> {
        settlements::settlement_names(&mut self.tx).await
    }

    /// Puts the caller in the operator queue, unless they already wait there. The item carries
    /// the ticket the call made (a hazard is served first), or is a plain question.
    pub async fn enqueue_call(
        &mut self,
        call: &CallRecord,
        ticket_number: Option<TicketNumber>,
        returning_since: Option<Timestamp>,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<QueueItem> {
        let active: Option<String> = sqlx::query_scalar(
            "SELECT id FROM queue_items WHERE call_id = $1 AND kind = 'live_call' AND state IN ('waiting', 'assigned')",
        )
        .bind(&call.id)
        .fetch_optional(&mut self.tx)
        .await?;
        if let Some(id) = active {
            return queue::item_in(&mut self.tx, &id).await;
        }
        let ticket = match (ticket_number, returning_since, call.caller_number.as_ref().map(CallerId::as_str)) {
            (Some(n), _, _) => tickets::fetch_ticket(&mut self.tx, &TicketKey::Number(n)).await?,
            (None, Some(since), Some(number)) => {
                returning::ticket_to_link(tickets::caller_tickets(&mut self.tx, number, since, RECENT_TICKETS).await?)
            }
            _ => None,
        };
        let item =
            NewItem::live_call(&call.id, call.caller_number.as_ref().map(CallerId::as_str), ticket.as_ref(), now);
        queue::enqueue_in(&mut self.tx, &item, ordering, now).await
    }

    /// How many waiting items this call would wait behind if it joined the queue now, as the
    /// live call `enqueue_call` would make of it (of its ticket's category, or a question):
    /// what its wait is estimated from. Web work queued behind callers does not count.
    pub async fn waiting_ahead_of_call(
        &mut self,
        ticket_number: Option<TicketNumber>,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let category = match ticket_number {
            Some(n) => tickets::fetch_ticket(&mut self.tx, &TicketKey::Number(n)).await?.map(|t| t.category),
            None => None,
        }
        .unwrap_or(Category::Question);
        let (tier, sort_key) = (ordering.tier(Kind::LiveCall, category), ordering.sort_key(category, now));
        queue::waiting_ahead_in(&mut self.tx, tier, sort_key).await
    }

    /// A callback request: a queue item to ring the caller back, in the place they asked from.
    pub async fn request_callback(
        &mut self,
        call: &CallRecord,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<QueueItem> {
        let item = NewItem {
            kind: Kind::Callback,
            ticket_id: None,
            call_id: Some(call.id.clone()),
            caller_number: call.caller_number.as_ref().map(|c| c.as_str().to_string()),
            category: Category::Callback,
            priority: Category::Callback.default_priority(),
            enqueued_at: now,
        };
        queue::enqueue_in(&mut self.tx, &item, ordering, now).await
    }

    /// The operator who took this call, and where to put it through.
    pub async fn taken_call(&mut self, call_id: &str) -> StoreResult<Option<(QueueItem, Option<String>)>> {
        queue::taken_call_in(&mut self.tx, call_id).await
    }

    pub async fn abandon_call(&mut self, call_id: &str, now: Timestamp) -> StoreResult<()> {
        queue::abandon_call_in(&mut self.tx, call_id, now).await
    }

    /// The call put through to an operator has ended: the operator now wraps it up.
    pub async fn operator_wraps_up(&mut self, call_id: &str, now: Timestamp) -> StoreResult<()> {
        queue::wrap_up_call_in(&mut self.tx, call_id, now).await
    }

    pub async fn queue_figures(&mut self, alive_since: Timestamp) -> StoreResult<QueueFigures> {
        queue::figures(&mut self.tx, alive_since).await
    }

    /// The call's live-call item, while it waits or is being put through.
    pub async fn live_item(&mut self, call_id: &str) -> StoreResult<Option<QueueItem>> {
        queue::live_item_in(&mut self.tx, call_id).await
    }

    /// The waiting caller's turn becomes a call back (see `queue::live_call_to_callback_in`).
    pub async fn live_call_to_callback(&mut self, call_id: &str, now: Timestamp) -> StoreResult<Option<QueueItem>> {
        queue::live_call_to_callback_in(&mut self.tx, call_id, now).await
    }

    /// The operator's phone did not take the call: the caller back to the head of the queue.
    pub async fn put_through_failed(
        &mut self,
        call_id: &str,
        outcome: &str,
        now: Timestamp,
    ) -> StoreResult<Option<QueueItem>> {
        queue::put_through_failed_in(&mut self.tx, call_id, outcome, now).await
    }

    /// Adds what the caller said later to the ticket their call opened.
    pub async fn update_ticket(
        &mut self,
        number: TicketNumber,
        update: &TicketUpdate,
        incident_window_s: i64,
        now: Timestamp,
    ) -> StoreResult<Ticket> {
        tickets::update_in(&mut self.tx, &TicketKey::Number(number), update, incident_window_s, "ivr", now).await
    }

    /// Starts a ticket's escalation with what is known of it now (a no-op when it has one).
    pub async fn escalate_ticket(
        &mut self,
        number: TicketNumber,
        policies: &Policies,
        now: Timestamp,
    ) -> StoreResult<Ticket> {
        let ticket = tickets::fetch_ticket(&mut self.tx, &TicketKey::Number(number))
            .await?
            .ok_or_else(|| StoreError::NotFound("ticket".into()))?;
        tickets::escalate_in(&mut self.tx, ticket, policies, now).await
    }

    /// The call ended: every hazard it reported that has not escalated yet does now (SPEC §4a).
    pub async fn escalate_call_hazards(
        &mut self,
        call_id: &str,
        policies: &Policies,
        now: Timestamp,
    ) -> StoreResult<()> {
        for ticket in tickets::unescalated_hazards_of_call(&mut self.tx, call_id).await? {
            tracing::warn!(number = %ticket.number, call = %call_id, "the call ended before its hazard escalated: escalating now");
            tickets::escalate_in(&mut self.tx, ticket, policies, now).await?;
        }
        Ok(())
    }
}
