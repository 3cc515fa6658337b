//! Tickets, their numbers, notes and audit trail.

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Backend, Store, StoreError, StoreResult, WriteTx, escalations, events, new_id, outages, queue};
use crate::clock::Timestamp;
use crate::escalation::policy::Policies;
use crate::queue::{Kind, NewItem, Ordering};
use crate::settlements::SettlementRef;
use crate::tickets::{
    Category, NewTicket, Note, Priority, Status, Ticket, TicketDetail, TicketEvent, TicketKey, TicketNumber, lifecycle,
    search_fold,
};

/// What `GET /api/tickets` may filter on; `cursor` is the number the previous page ended before.
#[derive(Debug, Default, Clone)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub settlement_id: Option<i64>,
    pub text: Option<String>,
    pub before_number: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    pub next_cursor: Option<String>,
}

macro_rules! select_tickets {
    ($($rest:literal)*) => {
        concat!(
            "SELECT t.id, t.number, t.category, t.priority, t.status, t.channel, t.caller_number, \
             t.settlement_id, s.name AS settlement_name, s.postcode AS settlement_postcode, t.address, \
             t.description, t.recording_url, t.recording_duration_s, t.incident_id, t.call_id, \
             u.username AS assignee, t.created_at, t.updated_at \
             FROM tickets t LEFT JOIN settlements s ON s.id = t.settlement_id \
             LEFT JOIN users u ON u.id = t.assignee_id ",
            $($rest),*
        )
    };
}

fn parsed<T: std::str::FromStr<Err = String>>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| StoreError::Invalid(format!("stored {column}: {e}")))
}

fn ticket_from(row: &AnyRow) -> StoreResult<Ticket> {
    let settlement_id: Option<i64> = row.try_get("settlement_id")?;
    let settlement = match settlement_id {
        Some(id) => Some(SettlementRef {
            id,
            name: row.try_get("settlement_name")?,
            postcode: row.try_get("settlement_postcode")?,
        }),
        None => None,
    };
    let number = TicketNumber::from_stored(row.try_get("number")?).map_err(StoreError::Invalid)?;
    Ok(Ticket {
        id: row.try_get("id")?,
        number,
        category: parsed(row, "category")?,
        priority: Priority::parse(row.try_get("priority")?).map_err(StoreError::Invalid)?,
        status: parsed(row, "status")?,
        channel: parsed(row, "channel")?,
        caller_number: row.try_get("caller_number")?,
        settlement,
        address: row.try_get("address")?,
        description: row.try_get("description")?,
        recording_url: row.try_get("recording_url")?,
        recording_duration_s: row.try_get("recording_duration_s")?,
        incident_id: row.try_get("incident_id")?,
        call_id: row.try_get("call_id")?,
        assignee: row.try_get("assignee")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

/// One line of the audit trail, written in the same transaction as the change it records.
#[allow(clippy::too_many_arguments)]
async fn record_event(
    tx: &mut WriteTx,
    ticket_id: &str,
    at: Timestamp,
    actor: &str,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    detail: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, at, actor, kind, from_status, to_status, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ticket_id)
    .bind(at.millis())
    .bind(actor)
    .bind(kind)
    .bind(from.map(Status::as_str))
    .bind(to.map(Status::as_str))
    .bind(detail)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Escapes LIKE's wildcards so a search for "50%" means those characters.
fn like_pattern(text: &str) -> String {
    let escaped = search_fold(text).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) async fn fetch_ticket<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    key: &TicketKey,
) -> StoreResult<Option<Ticket>> {
    let row = match key {
        TicketKey::Id(id) => sqlx::query(select_tickets!("WHERE t.id = $1")).bind(id).fetch_optional(executor).await?,
        TicketKey::Number(n) => {
            sqlx::query(select_tickets!("WHERE t.number = $1")).bind(n.get()).fetch_optional(executor).await?
        }
    };
    row.as_ref().map(ticket_from).transpose()
}

async fn ticket_in(tx: &mut WriteTx, key: &TicketKey) -> StoreResult<Ticket> {
    fetch_ticket(&mut *tx, key).await?.ok_or_else(|| StoreError::NotFound("ticket".into()))
}

/// A new ticket and its item in the operator queue, where it waits for a person.
pub(super) async fn insert_queued_ticket(
    tx: &mut WriteTx,
    backend: Backend,
    new: &NewTicket,
    ordering: &Ordering,
    now: Timestamp,
) -> StoreResult<Ticket> {
    let ticket = insert_ticket(tx, backend, new, now).await?;
    let item = NewItem {
        kind: Kind::Ticket,
        ticket_id: Some(ticket.id.clone()),
        call_id: None,
        caller_number: ticket.caller_number.clone(),
        category: ticket.category,
        priority: ticket.priority,
        enqueued_at: now,
    };
    queue::enqueue_in(tx, &item, ordering, now).await?;
    Ok(ticket)
}

/// The statement that hands out the next ticket number, unique and increasing: a real
/// difference. SQLite's one writer serialises a counter row; PostgreSQL takes a sequence, which
/// locks nothing until commit (a rolled-back ticket leaves a gap), where a counter row would make
/// every ticket-creating transaction wait for the one before.
fn next_ticket_number(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value",
        Backend::Postgres => "SELECT nextval('ticket_numbers')",
    }
}

/// Opens a ticket with the next number inside `tx`: the number, the row and its first audit
/// line commit together with whatever else the transaction does.
pub(super) async fn insert_ticket(
    tx: &mut WriteTx,
    backend: Backend,
    new: &NewTicket,
    now: Timestamp,
) -> StoreResult<Ticket> {
    let number: i64 = sqlx::query_scalar(next_ticket_number(backend)).fetch_one(&mut *tx).await?;
    let id = new_id();
    let search_text = search_fold(&format!(
        "{number} {} {} {}",
        new.description,
        new.address.as_deref().unwrap_or(""),
        new.caller_number.as_ref().map(|p| p.as_str()).unwrap_or("")
    ));
    sqlx::query(
        "INSERT INTO tickets (id, number, category, priority, status, channel, caller_number, settlement_id, \
         address, description, recording_url, recording_duration_s, call_id, assignee_id, search_text, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(&id)
    .bind(number)
    .bind(new.category.as_str())
    .bind(new.priority.get())
    .bind(new.status.as_str())
    .bind(new.channel.as_str())
    .bind(new.caller_number.as_ref().map(|p| p.as_str().to_string()))
    .bind(new.settlement_id)
    .bind(new.address.as_deref())
    .bind(&new.description)
    .bind(new.recording_url.as_deref())
    .bind(new.recording_duration_s)
    .bind(new.call_id.as_deref())
    .bind(new.assignee_id.as_deref())
    .bind(search_text)
    .bind(now.millis())
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Invalid(format!("settlement {} does not exist", new.settlement_id.unwrap_or_default()))
        }
        _ => e.into(),
    })?;
    if let (Some(window_s), Some(settlement_id)) = (new.incident_window_s, new.settlement_id) {
        let open_new = match new.category {
            Category::Outage => Some(true),
            Category::Hazard => Some(false),
            _ => None,
        };
        if let Some(open_new) = open_new {
            if let Some(incident) = outages::group_report_in(tx, settlement_id, window_s, open_new, now).await? {
                sqlx::query("UPDATE tickets SET incident_id = $1 WHERE id = $2")
                    .bind(incident)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    let detail = format!("{} via {}", new.category, new.channel);
    record_event(tx, &id, now, &new.actor, "created", None, Some(new.status), Some(&detail)).await?;
    let payload = serde_json::json!({"number": number.to_string(), "category": new.category});
    events::publish(tx, now, "ticket", "created", &id, &payload).await?;
    let ticket = ticket_in(tx, &TicketKey::Id(id.clone())).await?;
    // An emergency starts its escalation in the same transaction: answered means escalated.
    match &new.escalation {
        Some(policies) => escalate_in(tx, ticket, policies, now).await,
        None => Ok(ticket),
    }
}

/// Starts the ticket's escalation under the first policy that matches what is known of it now
/// (a no-op when it has one or none matches), and marks it escalated where its lifecycle allows.
pub(super) async fn escalate_in(
    tx: &mut WriteTx,
    ticket: Ticket,
    policies: &Policies,
    now: Timestamp,
) -> StoreResult<Ticket> {
    if escalations::start_in(tx, &ticket, policies, now).await?.is_none()
        || lifecycle::advance(ticket.status, Status::Escalated).is_err()
    {
        return Ok(ticket);
    }
    let key = TicketKey::Id(ticket.id);
    transition_in(tx, &key, Status::Escalated, "system", Some("escalation started"), None, now).await
}

/// What a caller's later answers add to the ticket their call opened: the settlement, the
/// words for what happened, a recording of the address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUpdate {
    pub settlement_id: Option<i64>,
    pub description: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration_s: Option<i64>,
}

/// Fills in what `update` knows (unknown fields stay as they are), with an audit line; a hazard
/// whose settlement becomes known joins that settlement's open incident.
pub(super) async fn update_in(
    tx: &mut WriteTx,
    key: &TicketKey,
    update: &TicketUpdate,
    incident_window_s: i64,
    actor: &str,
    now: Timestamp,
) -> StoreResult<Ticket> {
    let ticket = ticket_in(tx, key).await?;
    sqlx::query(
        "UPDATE tickets SET settlement_id = COALESCE($1, settlement_id), description = COALESCE($2, description), \
         recording_url = COALESCE($3, recording_url), recording_duration_s = COALESCE($4, recording_duration_s), \
         updated_at = $5 WHERE id = $6",
    )
    .bind(update.settlement_id)
    .bind(update.description.as_deref())
    .bind(update.recording_url.as_deref())
    .bind(update.recording_duration_s)
    .bind(now.millis())
    .bind(&ticket.id)
    .execute(&mut *tx)
    .await?;
    let joins_incident = ticket.category == Category::Hazard && ticket.incident_id.is_none();
    if let (true, Some(settlement_id)) = (joins_incident, update.settlement_id) {
        if let Some(incident) = outages::group_report_in(tx, settlement_id, incident_window_s, false, now).await? {
            sqlx::query("UPDATE tickets SET incident_id = $1 WHERE id = $2")
                .bind(incident)
                .bind(&ticket.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut changed = Vec::new();
    if update.settlement_id.is_some() {
        changed.push("settlement");
    }
    if update.description.is_some() {
        changed.push("description");
    }
    if update.recording_url.is_some() {
        changed.push("recording");
    }
    record_event(tx, &ticket.id, now, actor, "updated", None, None, Some(&changed.join(", "))).await?;
    let payload = serde_json::json!({"number": ticket.number, "category": ticket.category});
    events::publish(tx, now, "ticket", "updated", &ticket.id, &payload).await?;
    ticket_in(tx, key).await
}

/// The hazard tickets a call opened that have not escalated yet: the call ended before its
/// location was known or failed, so they escalate with what is known (SPEC §4a).
pub(super) async fn unescalated_hazards_of_call(tx: &mut WriteTx, call_id: &str) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(select_tickets!(
        "WHERE t.call_id = $1 AND t.category = 'hazard' AND NOT EXISTS \
         (SELECT 1 FROM escalations e WHERE e.ticket_id = t.id)"
    ))
    .bind(call_id)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter().map(ticket_from).collect()
}

/// A caller's tickets since `since`, newest first: their history, for the operator and the IVR.
pub(super) async fn caller_tickets<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    caller_number: &str,
    since: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(select_tickets!(
        "WHERE t.caller_number = $1 AND t.created_at >= $2 ORDER BY t.number DESC LIMIT $3"
    ))
    .bind(caller_number)
    .bind(since.millis())
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.iter().map(ticket_from).collect()
}

impl Store {
    /// Escalates the hazard tickets created before `created_before` that still wait for their
    /// escalation (see `escalation::HAZARD_ESCALATES_WITHIN_S`); returns their numbers.
    pub async fn escalate_waiting_hazards(
        &self,
        created_before: Timestamp,
        policies: std::sync::Arc<Policies>,
        now: Timestamp,
    ) -> StoreResult<Vec<TicketNumber>> {
        // Read first, outside the write turn: almost always there is none.
        let waiting: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE category = 'hazard' AND status = 'new' AND created_at <= $1 LIMIT 50",
        )
        .bind(created_before.millis())
        .fetch_all(&self.pool)
        .await?;
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        self.write_with((waiting, policies), move |tx, (waiting, policies)| {
            Box::pin(async move {
                let mut escalated = Vec::new();
                for id in waiting {
                    let ticket = ticket_in(tx, &TicketKey::Id(id.clone())).await?;
                    // Another instance may have escalated it meanwhile: then it is no longer new.
                    if ticket.status == Status::New {
                        escalated.push(escalate_in(tx, ticket, policies, now).await?.number);
                    }
                }
                Ok(escalated)
            })
        })
        .await
    }

    /// A caller's tickets since `since`, newest first.
    pub async fn caller_history(&self, caller_number: &str, since: Timestamp, limit: i64) -> StoreResult<Vec<Ticket>> {
        caller_tickets(&self.pool, caller_number, since, limit).await
    }

    /// Opens a ticket with the next number; the number, the row and its first audit line
    /// commit together.
    pub async fn create_ticket(&self, new: &NewTicket, now: Timestamp) -> StoreResult<Ticket> {
        let backend = self.backend;
        self.write_with(new.clone(), move |tx, new| Box::pin(insert_ticket(tx, backend, new, now))).await
    }

    /// Opens a ticket and puts it in the operator queue as work waiting for a person, together.
    pub async fn create_queued_ticket(
        &self,
        new: &NewTicket,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<Ticket> {
        let backend = self.backend;
        self.write_with((new.clone(), ordering.clone()), move |tx, (new, ordering)| {
            Box::pin(insert_queued_ticket(tx, backend, new, ordering, now))
        })
        .await
    }

    pub async fn ticket(&self, key: &TicketKey) -> StoreResult<Option<Ticket>> {
        fetch_ticket(&self.pool, key).await
    }

    pub async fn ticket_detail(&self, key: &TicketKey) -> StoreResult<Option<TicketDetail>> {
        let Some(ticket) = self.ticket(key).await? else {
            return Ok(None);
        };
        let events = sqlx::query(
            "SELECT at, actor, kind, from_status, to_status, detail FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(&ticket.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(TicketEvent {
                at: Timestamp(row.try_get("at")?),
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                from: row.try_get("from_status")?,
                to: row.try_get("to_status")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let notes = sqlx::query(
            "SELECT id, author, body, answer, created_at FROM ticket_notes WHERE ticket_id = $1 ORDER BY created_at, id",
        )
        .bind(&ticket.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Note {
                id: row.try_get("id")?,
                author: row.try_get("author")?,
                text: row.try_get("body")?,
                answer: row.try_get::<i64, _>("answer")? != 0,
                created_at: Timestamp(row.try_get("created_at")?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(TicketDetail::new(ticket, events, notes)))
    }

    /// Newest first; a page is `limit` tickets and says where the next one starts.
    pub async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<TicketPage> {
        let limit = filter.limit.clamp(1, 200);
        let rows = sqlx::query(select_tickets!(
            "WHERE ($1 IS NULL OR t.status = $1) AND ($2 IS NULL OR t.category = $2) "
            "AND ($3 IS NULL OR t.settlement_id = $3) AND ($4 IS NULL OR t.search_text LIKE $4 ESCAPE '\\') "
            "AND ($5 IS NULL OR t.number < $5) ORDER BY t.number DESC LIMIT $6"
        ))
        .bind(filter.status.map(Status::as_str))
        .bind(filter.category.map(Category::as_str))
        .bind(filter.settlement_id)
        .bind(filter.text.as_deref().map(like_pattern))
        .bind(filter.before_number)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows.iter().map(ticket_from).collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|t| t.number.to_string())
        } else {
            None
        };
        Ok(TicketPage { items, next_cursor })
    }

    pub async fn add_note(&self, key: &TicketKey, author: &str, text: &str, now: Timestamp) -> StoreResult<Note> {
        self.add_marked_note(key, author, text, false, now).await
    }

    /// A note that, with `answer`, is the answer the ticket's author reads on the reception's
    /// status page (the newest such note).
    pub async fn add_marked_note(
        &self,
        key: &TicketKey,
        author: &str,
        text: &str,
        answer: bool,
        now: Timestamp,
    ) -> StoreResult<Note> {
        let args = (key.clone(), author.to_string(), text.to_string());
        self.write_with(args, move |tx, (key, author, text)| Box::pin(add_note_in(tx, key, author, text, answer, now)))
            .await
    }

    /// Moves a ticket along its lifecycle. An impossible step is a conflict and changes nothing;
    /// the change, its audit line and an optional note commit together.
    pub async fn transition_ticket(
        &self,
        key: &TicketKey,
        to: Status,
        actor: &str,
        disposition: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Ticket> {
        let args = (key.clone(), actor.to_string(), disposition.map(str::to_string), note.map(str::to_string));
        self.write_with(args, move |tx, (key, actor, disposition, note)| {
            Box::pin(transition_in(tx, key, to, actor, disposition.as_deref(), note.as_deref(), now))
        })
        .await
    }
}

/// A note on a ticket, with its audit line, inside `tx`.
pub(super) async fn add_note_in(
    tx: &mut WriteTx,
    key: &TicketKey,
    author: &str,
    text: &str,
    answer: bool,
    now: Timestamp,
) -> StoreResult<Note> {
    let ticket = ticket_in(tx, key).await?;
    let note = insert_note(tx, &ticket.id, author, text, answer, now).await?;
    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2")
        .bind(now.millis())
        .bind(&ticket.id)
        .execute(&mut *tx)
        .await?;
    record_event(tx, &ticket.id, now, author, "note", None, None, Some(&note.id)).await?;
    events::publish(tx, now, "ticket", "note", &ticket.id, &serde_json::json!({"number": ticket.number})).await?;
    Ok(note)
}

async fn insert_note(
    tx: &mut WriteTx,
    ticket_id: &str,
    author: &str,
    text: &str,
    answer: bool,
    now: Timestamp,
) -> StoreResult<Note> {
    let note = Note { id: new_id(), author: author.to_string(), text: text.to_string(), answer, created_at: now };
    sqlx::query(
        "INSERT INTO ticket_notes (id, ticket_id, author, body, answer, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&note.id)
    .bind(ticket_id)
    .bind(author)
    .bind(text)
    .bind(i64::from(answer))
    .bind(now.millis())
    .execute(&mut *tx)
    .await?;
    Ok(note)
}

/// A lifecycle step inside `tx`, for the ticket API and for the queue (taking, releasing and
/// wrapping up an item moves its ticket too).
#[allow(clippy::too_many_arguments)]
pub(super) async fn transition_in(
    tx: &mut WriteTx,
    key: &TicketKey,
    to: Status,
    actor: &str,
    detail: Option<&str>,
    note: Option<&str>,
    now: Timestamp,
) -> StoreResult<Ticket> {
    let ticket = ticket_in(tx, key).await?;
    let next = lifecycle::advance(ticket.status, to).map_err(StoreError::Conflict)?;
    // Guarded by the status just read: on PostgreSQL a concurrent change makes this match
    // nothing, and the caller gets a conflict instead of a lost update.
    let updated = sqlx::query("UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(next.as_str())
        .bind(now.millis())
        .bind(&ticket.id)
        .bind(ticket.status.as_str())
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict("the ticket was changed meanwhile; reload it".into()));
    }
    record_event(tx, &ticket.id, now, actor, "status", Some(ticket.status), Some(next), detail).await?;
    if !next.is_open() {
        queue::withdraw_finished_work_in(tx, &ticket.id, now).await?;
    }
    if let Some(text) = note {
        insert_note(tx, &ticket.id, actor, text, false, now).await?;
    }
    let payload = serde_json::json!({"number": ticket.number, "from": ticket.status, "to": next});
    events::publish(tx, now, "ticket", "status", &ticket.id, &payload).await?;
    ticket_in(tx, key).await
}
