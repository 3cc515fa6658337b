//! The operator queue and the operators: atomic hand-out, release, wrap-up, leases.

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Store, StoreError, StoreResult, WriteTx, events, new_id, tickets};
use crate::auth::User;
use crate::clock::Timestamp;
use crate::queue::{
    ItemMove, ItemState, Kind, NewItem, OperatorStatus, Ordering, QueueItem, TicketMove, WaitRange, estimate_wait,
    put_through_pause_reason, ticket_follows,
};
use crate::tickets::{Category, Priority, TicketKey, TicketNumber};

const SELECT_ITEMS: &str = "SELECT q.id, q.kind, q.ticket_id, t.number AS ticket_number, q.call_id, q.caller_number, \
     q.category, q.priority, q.enqueued_at, q.state, u.username AS operator, q.assigned_at, q.disposition, \
     q.tier, q.sort_key FROM queue_items q LEFT JOIN tickets t ON t.id = q.ticket_id \
     LEFT JOIN users u ON u.id = q.operator_id";

/// An operator as the queue sees them.
#[derive(Debug, Clone, serde::Serialize, PartialEq, utoipa::ToSchema)]
pub struct OperatorState {
    pub username: String,
    pub status: OperatorStatus,
    pub pause_reason: Option<String>,
    pub contact: Option<String>,
    pub seen_at: Timestamp,
}

/// The figures behind `GET /api/queue` and the wait a caller is told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFigures {
    pub waiting: i64,
    pub oldest_enqueued_at: Option<Timestamp>,
    /// Operators on shift: available, their console alive.
    pub operators_available: i64,
    /// Those of them holding no item.
    pub operators_free: i64,
    /// Operators whose console is alive and who are not offline (paused or wrapping up
    /// included): when none is, nobody will answer and callers are told so.
    pub operators_on_shift: i64,
    /// Seconds from hand-out to wrap-up of the latest finished items, by category, newest first.
    pub recent_handle_s: Vec<(Category, i64)>,
}

fn item_from(row: &AnyRow) -> StoreResult<QueueItem> {
    let text = |c: &str| -> StoreResult<String> { Ok(row.try_get::<String, _>(c)?) };
    let number: Option<i64> = row.try_get("ticket_number")?;
    Ok(QueueItem {
        id: text("id")?,
        kind: text("kind")?.parse().map_err(StoreError::Invalid)?,
        ticket_id: row.try_get("ticket_id")?,
        ticket_number: number.map(TicketNumber::from_stored).transpose().map_err(StoreError::Invalid)?,
        call_id: row.try_get("call_id")?,
        caller_number: row.try_get("caller_number")?,
        category: text("category")?.parse().map_err(StoreError::Invalid)?,
        priority: Priority::parse(row.try_get("priority")?).map_err(StoreError::Invalid)?,
        enqueued_at: Timestamp(row.try_get("enqueued_at")?),
        state: text("state")?.parse().map_err(StoreError::Invalid)?,
        position: None,
        operator: row.try_get("operator")?,
        assigned_at: row.try_get::<Option<i64>, _>("assigned_at")?.map(Timestamp),
        disposition: row.try_get("disposition")?,
    })
}

pub(super) async fn item_in(tx: &mut WriteTx, id: &str) -> StoreResult<QueueItem> {
    let sql = format!("{SELECT_ITEMS} WHERE q.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
    row.as_ref().map(item_from).transpose()?.ok_or_else(|| StoreError::NotFound("queue item".into()))
}

/// Moves the item's ticket as [`ticket_follows`] says; a ticket already further on stays.
async fn follow_ticket(
    tx: &mut WriteTx,
    item: &QueueItem,
    moved: ItemMove<'_>,
    actor: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let Some(TicketMove { ticket_id, to, detail }) = ticket_follows(item, moved) else { return Ok(()) };
    match tickets::transition_in(tx, &TicketKey::Id(ticket_id), to, actor, Some(&detail), None, now).await {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A ticket was resolved, closed or cancelled elsewhere (its page, a dispatcher): its work
/// item waiting in the queue is withdrawn, so no operator is handed finished work. A caller on
/// the line or waiting for a call back keeps their turn: a person still speaks to them.
pub(super) async fn withdraw_finished_work_in(tx: &mut WriteTx, ticket_id: &str, now: Timestamp) -> StoreResult<()> {
    let sql = format!("{SELECT_ITEMS} WHERE q.ticket_id = $1 AND q.kind = 'ticket' AND q.state = 'waiting'");
    let rows = sqlx::query(&sql).bind(ticket_id).fetch_all(&mut *tx).await?;
    for row in &rows {
        let item = item_from(row)?;
        sqlx::query("UPDATE queue_items SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state = 'waiting'")
            .bind(now.millis())
            .bind(&item.id)
            .execute(&mut *tx)
            .await?;
        let withdrawn = item_in(tx, &item.id).await?;
        publish_item(tx, now, "cancelled", &withdrawn).await?;
    }
    Ok(())
}

pub(super) async fn publish_item(tx: &mut WriteTx, now: Timestamp, kind: &str, item: &QueueItem) -> StoreResult<()> {
    let payload = serde_json::to_value(item).unwrap_or_default();
    events::publish(tx, now, "queue", kind, &item.id, &payload).await
}

/// Whether this number already waits for a call back of this category (one at a time).
async fn callback_waits(tx: &mut WriteTx, caller_number: Option<&str>, category: Category) -> StoreResult<bool> {
    let waiting: Option<String> = sqlx::query_scalar(
        "SELECT id FROM queue_items WHERE kind = 'callback' AND caller_number = $1 AND category = $2 \
         AND state IN ('waiting', 'assigned')",
    )
    .bind(caller_number)
    .bind(category.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    Ok(waiting.is_some())
}

/// Puts an item in the queue inside `tx`. A second active callback for the same number and
/// category is refused as a conflict.
pub(super) async fn enqueue_in(
    tx: &mut WriteTx,
    new: &NewItem,
    ordering: &Ordering,
    now: Timestamp,
) -> StoreResult<QueueItem> {
    // Checked before the insert: on PostgreSQL a failed insert would spoil the whole transaction.
    if new.kind == Kind::Callback && callback_waits(tx, new.caller_number.as_deref(), new.category).await? {
        return Err(StoreError::Conflict("a callback for this number is already waiting".into()));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO queue_items (id, kind, ticket_id, call_id, caller_number, category, priority, tier, sort_key, \
         enqueued_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'waiting')",
    )
    .bind(&id)
    .bind(new.kind.as_str())
    .bind(new.ticket_id.as_deref())
    .bind(new.call_id.as_deref())
    .bind(new.caller_number.as_deref())
    .bind(new.category.as_str())
    .bind(new.priority.get())
    .bind(ordering.tier(new.kind, new.category))
    .bind(ordering.sort_key(new.category, new.enqueued_at))
    .bind(new.enqueued_at.millis())
    .execute(&mut *tx)
    .await
    .map_err(|e| super::conflict_on_unique(e, || "a callback for this number is already waiting".into()))?;
    let item = item_in(tx, &id).await?;
    publish_item(tx, now, "enqueued", &item).await?;
    Ok(item)
}

/// How many waiting items an item entering the queue now in `tier` with `sort_key` would wait
/// behind (an item already there with the same key goes first).
pub(super) async fn waiting_ahead_in(tx: &mut WriteTx, tier: i64, sort_key: i64) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM queue_items WHERE state = 'waiting' AND (tier < $1 OR (tier = $1 AND sort_key <= $2))",
    )
    .bind(tier)
    .bind(sort_key)
    .fetch_one(&mut *tx)
    .await?)
}

/// The live-call item of a call that an operator has taken, with that operator's contact.
pub(super) async fn taken_call_in(tx: &mut WriteTx, call_id: &str) -> StoreResult<Option<(QueueItem, Option<String>)>> {
    let sql = format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' AND q.state = 'assigned'");
    let Some(row) = sqlx::query(&sql).bind(call_id).fetch_optional(&mut *tx).await? else { return Ok(None) };
    let item = item_from(&row)?;
    let contact: Option<String> = sqlx::query_scalar(
        "SELECT o.contact FROM operators o JOIN queue_items q ON q.operator_id = o.user_id WHERE q.id = $1",
    )
    .bind(&item.id)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    Ok(Some((item, contact)))
}

pub(super) async fn live_item_in(tx: &mut WriteTx, call_id: &str) -> StoreResult<Option<QueueItem>> {
    let sql =
        format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' AND q.state IN ('waiting', 'assigned')");
    sqlx::query(&sql).bind(call_id).fetch_optional(&mut *tx).await?.as_ref().map(item_from).transpose()
}

/// A caller waiting on the line asks to be rung back instead: their live-call item becomes a
/// callback where it stands, so they keep their place (SPEC §4a). `Ok(None)` when the call
/// has no waiting item; a conflict when this number already waits for a call back, in which
/// case the live item is cancelled, since that call back keeps the caller's turn.
pub(super) async fn live_call_to_callback_in(
    tx: &mut WriteTx,
    call_id: &str,
    now: Timestamp,
) -> StoreResult<Option<QueueItem>> {
    let sql = format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' AND q.state = 'waiting'");
    let Some(row) = sqlx::query(&sql).bind(call_id).fetch_optional(&mut *tx).await? else { return Ok(None) };
    let item = item_from(&row)?;
    let duplicate = callback_waits(tx, item.caller_number.as_deref(), item.category).await?;
    let (state, kind, event) =
        if duplicate { ("cancelled", Kind::LiveCall, "cancelled") } else { ("waiting", Kind::Callback, "to_callback") };
    sqlx::query("UPDATE queue_items SET kind = $1, state = $2, finished_at = CASE WHEN $2 = 'cancelled' THEN $3 END WHERE id = $4")
        .bind(kind.as_str())
        .bind(state)
        .bind(now.millis())
        .bind(&item.id)
        .execute(&mut *tx)
        .await?;
    let item = item_in(tx, &item.id).await?;
    publish_item(tx, now, event, &item).await?;
    if duplicate {
        return Err(StoreError::Conflict("a callback for this number is already waiting".into()));
    }
    Ok(Some(item))
}

/// The operator a call was put through to was busy, did not answer or could not be reached:
/// the caller's item goes back to the head of its tier, and that operator is paused so the
/// next caller is not sent to the same dead phone (SPEC §4a). `None` when no operator held it.
pub(super) async fn put_through_failed_in(
    tx: &mut WriteTx,
    call_id: &str,
    outcome: &str,
    now: Timestamp,
) -> StoreResult<Option<QueueItem>> {
    let sql = format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' AND q.state = 'assigned'");
    let Some(row) = sqlx::query(&sql).bind(call_id).fetch_optional(&mut *tx).await? else { return Ok(None) };
    let item = item_from(&row)?;
    let held = sqlx::query("SELECT operator_id, tier, sort_key FROM queue_items WHERE id = $1")
        .bind(&item.id)
        .fetch_one(&mut *tx)
        .await?;
    let (operator, tier, sort_key): (Option<String>, i64, i64) =
        (held.try_get("operator_id")?, held.try_get("tier")?, held.try_get("sort_key")?);
    let head: i64 =
        sqlx::query_scalar("SELECT COALESCE(MIN(sort_key), $1) FROM queue_items WHERE tier = $2 AND state = 'waiting'")
            .bind(sort_key)
            .bind(tier)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "UPDATE queue_items SET state = 'waiting', operator_id = NULL, assigned_at = NULL, lease_expires_at = NULL, \
         sort_key = $1 WHERE id = $2",
    )
    .bind(head.min(sort_key) - 1)
    .bind(&item.id)
    .execute(&mut *tx)
    .await?;
    let actor = item.operator.clone().unwrap_or_default();
    if let Some(user_id) = operator {
        set_status_in(tx, &user_id, OperatorStatus::Paused, Some(put_through_pause_reason(outcome)), now).await?;
    }
    follow_ticket(tx, &item, ItemMove::PutThroughFailed { outcome }, &actor, now).await?;
    let item = item_in(tx, &item.id).await?;
    publish_item(tx, now, "put_through_failed", &item).await?;
    Ok(Some(item))
}

/// The caller is gone: their live-call item leaves the queue as abandoned, even if an operator
/// had already taken it (the operator sees it and moves on).
pub(super) async fn abandon_call_in(tx: &mut WriteTx, call_id: &str, now: Timestamp) -> StoreResult<()> {
    let sql =
        format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' AND q.state IN ('waiting', 'assigned')");
    let rows = sqlx::query(&sql).bind(call_id).fetch_all(&mut *tx).await?;
    for row in &rows {
        let item = item_from(row)?;
        sqlx::query("UPDATE queue_items SET state = 'abandoned', finished_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(&item.id)
            .execute(&mut *tx)
            .await?;
        let item = item_in(tx, &item.id).await?;
        publish_item(tx, now, "abandoned", &item).await?;
    }
    Ok(())
}

/// The operator holding a call's item goes to wrap-up when the call ends.
pub(super) async fn wrap_up_call_in(tx: &mut WriteTx, call_id: &str, now: Timestamp) -> StoreResult<()> {
    let operator: Option<String> = sqlx::query_scalar(
        "SELECT operator_id FROM queue_items WHERE call_id = $1 AND kind = 'live_call' AND state = 'assigned'",
    )
    .bind(call_id)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    match operator {
        Some(user_id) => set_status_in(tx, &user_id, OperatorStatus::WrapUp, None, now).await,
        None => Ok(()),
    }
}

fn operator_from(row: &AnyRow) -> StoreResult<OperatorState> {
    let status: String = row.try_get("status")?;
    Ok(OperatorState {
        username: row.try_get("username")?,
        status: status.parse().map_err(StoreError::Invalid)?,
        pause_reason: row.try_get("pause_reason")?,
        contact: row.try_get("contact")?,
        seen_at: Timestamp(row.try_get("seen_at")?),
    })
}

impl QueueFigures {
    /// Recent handling times of `category`, or of everything when that category has too few
    /// to go on.
    pub fn handle_times(&self, category: Option<Category>) -> Vec<i64> {
        let of = |c: Option<Category>| -> Vec<i64> {
            self.recent_handle_s.iter().filter(|(k, _)| c.is_none_or(|c| *k == c)).map(|(_, s)| *s).take(20).collect()
        };
        let own = of(category);
        if own.len() >= crate::queue::MIN_SAMPLES { own } else { of(None) }
    }

    /// How long a caller with `ahead` items before them will wait, by `category`'s handling times.
    pub fn wait_for(&self, ahead: i64, category: Option<Category>) -> WaitRange {
        estimate_wait(ahead, self.operators_available, self.operators_free, &self.handle_times(category))
    }
}

impl Store {
    pub async fn enqueue(&self, new: &NewItem, ordering: &Ordering, now: Timestamp) -> StoreResult<QueueItem> {
        self.write_with((new.clone(), ordering.clone()), move |tx, (new, ordering)| {
            Box::pin(enqueue_in(tx, new, ordering, now))
        })
        .await
    }

    /// Waiting items in serving order, each with its 1-based position.
    pub async fn waiting_items(&self) -> StoreResult<Vec<QueueItem>> {
        let sql = format!("{SELECT_ITEMS} WHERE q.state = 'waiting' ORDER BY q.tier, q.sort_key, q.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut items = rows.iter().map(item_from).collect::<StoreResult<Vec<_>>>()?;
        for (i, item) in items.iter_mut().enumerate() {
            item.position = Some(i as i64 + 1);
        }
        Ok(items)
    }

    pub async fn queue_item(&self, id: &str) -> StoreResult<Option<QueueItem>> {
        let sql = format!("{SELECT_ITEMS} WHERE q.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(item_from).transpose()
    }

    /// The item an operator holds, if any; or a call they took whose caller hung up before it
    /// was put through, until they wrap it up (so they are told).
    pub async fn held_item(&self, operator_id: &str) -> StoreResult<Option<QueueItem>> {
        let sql = format!(
            "{SELECT_ITEMS} WHERE q.operator_id = $1 AND (q.state = 'assigned' OR (q.state = 'abandoned' AND \
             q.disposition IS NULL)) ORDER BY CASE WHEN q.state = 'assigned' THEN 0 ELSE 1 END, q.assigned_at DESC"
        );
        let row = sqlx::query(&sql).bind(operator_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(item_from).transpose()
    }

    /// The live-call item of a call, whatever its state, with the caller's place if waiting.
    pub async fn call_item(&self, call_id: &str) -> StoreResult<Option<QueueItem>> {
        let sql = format!("{SELECT_ITEMS} WHERE q.call_id = $1 AND q.kind = 'live_call' ORDER BY q.enqueued_at DESC");
        let Some(row) = sqlx::query(&sql).bind(call_id).fetch_optional(&self.pool).await? else { return Ok(None) };
        let mut item = item_from(&row)?;
        if item.state == ItemState::Waiting {
            let (tier, sort_key): (i64, i64) = (row.try_get("tier")?, row.try_get("sort_key")?);
            let ahead: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM queue_items WHERE state = 'waiting' \
                 AND (tier < $1 OR (tier = $1 AND (sort_key < $2 OR (sort_key = $2 AND id < $3))))",
            )
            .bind(tier)
            .bind(sort_key)
            .bind(&item.id)
            .fetch_one(&self.pool)
            .await?;
            item.position = Some(ahead + 1);
        }
        Ok(Some(item))
    }

    /// Hands the next item to `operator`, atomically: two operators never get the same one.
    /// `None` when nothing waits; a conflict when the operator still holds an item.
    pub async fn take_next(
        &self,
        operator: &User,
        can_take_calls: bool,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<QueueItem>> {
        let claim = format!(
            "UPDATE queue_items SET state = 'assigned', operator_id = $1, assigned_at = $2, lease_expires_at = $3 \
             WHERE id = (SELECT id FROM queue_items WHERE state = 'waiting' AND ($4 = 1 OR kind <> 'live_call') \
             ORDER BY tier, sort_key, id LIMIT 1 {}) RETURNING id",
            self.backend.skip_locked()
        );
        self.write_with((operator.clone(), claim), move |tx, (operator, claim)| {
            Box::pin(async move {
                expire_leases_in(tx, now).await?;
                let held: Option<String> =
                    sqlx::query_scalar("SELECT id FROM queue_items WHERE operator_id = $1 AND state = 'assigned'")
                        .bind(&operator.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if held.is_some() {
                    return Err(StoreError::Conflict("finish the item you hold first (wrap-up or release)".into()));
                }
                let claimed: Option<String> = sqlx::query_scalar(claim.as_str())
                    .bind(&operator.id)
                    .bind(now.millis())
                    .bind(lease_until.millis())
                    .bind(i64::from(can_take_calls))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| super::conflict_on_unique(e, || "you already hold an item".into()))?;
                let Some(id) = claimed else {
                    return Ok(None);
                };
                let item = item_in(tx, &id).await?;
                follow_ticket(tx, &item, ItemMove::Taken, &operator.username, now).await?;
                publish_item(tx, now, "assigned", &item).await?;
                Ok(Some(item))
            })
        })
        .await
    }

    /// Live calls whose callers hung up while waiting, since `since`, newest first, with how
    /// long they waited: the supervisor's list of people to ring back.
    pub async fn abandoned_calls(&self, since: Timestamp) -> StoreResult<Vec<(QueueItem, i64)>> {
        let sql = format!(
            "{SELECT_ITEMS} WHERE q.kind = 'live_call' AND q.state = 'abandoned' AND q.finished_at >= $1 \
             ORDER BY q.finished_at DESC LIMIT 500"
        );
        let rows = sqlx::query(&sql).bind(since.millis()).fetch_all(&self.pool).await?;
        let waits: Vec<i64> = sqlx::query_scalar(
            "SELECT (finished_at - enqueued_at) / 1000 FROM queue_items WHERE kind = 'live_call' \
             AND state = 'abandoned' AND finished_at >= $1 ORDER BY finished_at DESC LIMIT 500",
        )
        .bind(since.millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().zip(waits).map(|(row, wait)| Ok((item_from(row)?, wait))).collect()
    }

    /// Gives an item back; it keeps its place (its enqueue time and order are unchanged).
    pub async fn release(&self, item_id: &str, operator: &User, now: Timestamp) -> StoreResult<QueueItem> {
        self.write_with((item_id.to_string(), operator.clone()), move |tx, (item_id, operator)| {
            Box::pin(async move {
                let item = item_in(tx, item_id).await?;
                if item.state != ItemState::Assigned || item.operator.as_deref() != Some(operator.username.as_str()) {
                    return Err(StoreError::Conflict("you do not hold this item".into()));
                }
                sqlx::query(
            "UPDATE queue_items SET state = 'waiting', operator_id = NULL, assigned_at = NULL, lease_expires_at = NULL \
             WHERE id = $1",
        )
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
                follow_ticket(tx, &item, ItemMove::Released, &operator.username, now).await?;
                let item = item_in(tx, item_id).await?;
                publish_item(tx, now, "released", &item).await?;
                Ok(item)
            })
        })
        .await
    }

    /// Wrap-up: the item is done with a disposition; its ticket is resolved (or cancelled when
    /// there was nothing to do) and the operator is available again.
    pub async fn complete(
        &self,
        item_id: &str,
        operator: &User,
        disposition: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<QueueItem> {
        let args = (item_id.to_string(), operator.clone(), disposition.to_string(), note.map(str::to_string));
        self.write_with(args, move |tx, (item_id, operator, disposition, note)| {
            Box::pin(async move {
                let item = item_in(tx, item_id).await?;
                let mine = item.operator.as_deref() == Some(operator.username.as_str());
                if !mine || !matches!(item.state, ItemState::Assigned | ItemState::Abandoned) {
                    return Err(StoreError::Conflict("you do not hold this item".into()));
                }
                sqlx::query(
                    "UPDATE queue_items SET state = CASE WHEN state = 'abandoned' THEN 'abandoned' ELSE 'done' END, \
             finished_at = $1, disposition = $2, note = $3, lease_expires_at = NULL WHERE id = $4",
                )
                .bind(now.millis())
                .bind(disposition)
                .bind(note)
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
                follow_ticket(tx, &item, ItemMove::Completed { disposition }, &operator.username, now).await?;
                if let (Some(ticket_id), Some(text)) = (&item.ticket_id, note) {
                    let key = TicketKey::Id(ticket_id.clone());
                    tickets::add_note_in(tx, &key, &operator.username, text, false, now).await?;
                }
                set_status_in(tx, &operator.id, OperatorStatus::Available, None, now).await?;
                let item = item_in(tx, item_id).await?;
                publish_item(tx, now, "completed", &item).await?;
                Ok(item)
            })
        })
        .await
    }

    /// Items whose operator stopped renewing the lease go back to the queue, keeping their place.
    pub async fn expire_leases(&self, now: Timestamp) -> StoreResult<u64> {
        self.write_with((), move |tx, ()| Box::pin(expire_leases_in(tx, now))).await
    }

    /// A sign of life from an operator: renews the lease on what they hold.
    pub async fn touch_operator(&self, user: &User, lease_until: Timestamp, now: Timestamp) -> StoreResult<()> {
        self.write_with(user.id.clone(), move |tx, user_id| {
            Box::pin(async move {
                sqlx::query("UPDATE operators SET seen_at = $1 WHERE user_id = $2")
                    .bind(now.millis())
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE queue_items SET lease_expires_at = $1 WHERE operator_id = $2 AND state = 'assigned'",
                )
                .bind(lease_until.millis())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn set_operator(
        &self,
        user: &User,
        status: OperatorStatus,
        pause_reason: Option<&str>,
        contact: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<OperatorState> {
        let args = (user.id.clone(), pause_reason.map(str::to_string), contact.map(str::to_string));
        self.write_with(args, move |tx, (user_id, pause_reason, contact)| {
            Box::pin(async move {
                set_status_in(tx, user_id, status, pause_reason.as_deref(), now).await?;
                if let Some(contact) = contact {
                    sqlx::query("UPDATE operators SET contact = $1 WHERE user_id = $2")
                        .bind(contact)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(())
            })
        })
        .await?;
        self.operator(&user.id).await?.ok_or_else(|| StoreError::NotFound("operator".into()))
    }

    pub async fn operator(&self, user_id: &str) -> StoreResult<Option<OperatorState>> {
        let row = sqlx::query(
            "SELECT u.username, o.status, o.pause_reason, o.contact, o.seen_at FROM operators o \
             JOIN users u ON u.id = o.user_id WHERE o.user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(operator_from).transpose()
    }

    /// Counts for the queue's statistics and the wait estimate; operators count as available
    /// only while their console is alive (seen since `alive_since`).
    pub async fn queue_figures(&self, alive_since: Timestamp) -> StoreResult<QueueFigures> {
        let mut conn = self.pool.acquire().await?;
        figures(&mut *conn, alive_since).await
    }
}

pub(super) async fn figures<C>(conn: &mut C, alive_since: Timestamp) -> StoreResult<QueueFigures>
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = Any>,
{
    let row =
        sqlx::query("SELECT COUNT(*) AS waiting, MIN(enqueued_at) AS oldest FROM queue_items WHERE state = 'waiting'")
            .fetch_one(&mut *conn)
            .await?;
    // An operator holds at most one item (queue_items_one_per_operator), found by that index.
    let operators = sqlx::query(
        "SELECT COUNT(*) AS on_shift, COALESCE(SUM(CASE WHEN o.status = 'available' THEN 1 ELSE 0 END), 0) AS available, \
         COALESCE(SUM(CASE WHEN o.status = 'available' AND NOT EXISTS (SELECT 1 FROM queue_items q \
         WHERE q.operator_id = o.user_id AND q.state = 'assigned') THEN 1 ELSE 0 END), 0) AS free \
         FROM operators o WHERE o.status <> 'offline' AND o.seen_at >= $1",
    )
    .bind(alive_since.millis())
    .fetch_one(&mut *conn)
    .await?;
    let recent = sqlx::query(
        "SELECT category, (finished_at - assigned_at) / 1000 AS seconds FROM queue_items WHERE state = 'done' \
         AND assigned_at IS NOT NULL ORDER BY finished_at DESC LIMIT 100",
    )
    .fetch_all(&mut *conn)
    .await?;
    let recent_handle_s = recent
        .iter()
        .map(|row| {
            let category: String = row.try_get("category")?;
            Ok((category.parse().map_err(StoreError::Invalid)?, row.try_get("seconds")?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(QueueFigures {
        waiting: row.try_get("waiting")?,
        oldest_enqueued_at: row.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
        operators_available: operators.try_get("available")?,
        operators_free: operators.try_get("free")?,
        operators_on_shift: operators.try_get("on_shift")?,
        recent_handle_s,
    })
}

async fn set_status_in(
    tx: &mut WriteTx,
    user_id: &str,
    status: OperatorStatus,
    pause_reason: Option<&str>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO operators (user_id, status, pause_reason, seen_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, pause_reason = excluded.pause_reason, \
         seen_at = excluded.seen_at, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(status.as_str())
    .bind(pause_reason)
    .bind(now.millis())
    .execute(&mut *tx)
    .await?;
    let payload = serde_json::json!({"status": status, "pause_reason": pause_reason});
    events::publish(tx, now, "operator", "status", user_id, &payload).await
}

async fn expire_leases_in(tx: &mut WriteTx, now: Timestamp) -> StoreResult<u64> {
    // A live call already put through to the operator is not taken back: the caller is talking.
    let sql = format!(
        "{SELECT_ITEMS} WHERE q.state = 'assigned' AND q.lease_expires_at < $1 AND NOT EXISTS \
         (SELECT 1 FROM calls c WHERE c.id = q.call_id AND c.status = 'connected')"
    );
    let rows = sqlx::query(&sql).bind(now.millis()).fetch_all(&mut *tx).await?;
    for row in &rows {
        let item = item_from(row)?;
        sqlx::query(
            "UPDATE queue_items SET state = 'waiting', operator_id = NULL, assigned_at = NULL, lease_expires_at = NULL \
             WHERE id = $1",
        )
        .bind(&item.id)
        .execute(&mut *tx)
        .await?;
        let actor = item.operator.clone().unwrap_or_default();
        follow_ticket(tx, &item, ItemMove::LeaseExpired, &actor, now).await?;
        let item = item_in(tx, &item.id).await?;
        publish_item(tx, now, "lease_expired", &item).await?;
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_estimates_use_the_category_own_times_when_there_are_enough() {
        let recent_handle_s =
            (0..6).map(|_| (Category::Outage, 60)).chain((0..3).map(|_| (Category::Theft, 600))).collect();
        let figures = QueueFigures { recent_handle_s, ..QueueFigures::default() };
        assert_eq!(figures.handle_times(Some(Category::Outage)), vec![60; 6]);
        assert_eq!(figures.handle_times(Some(Category::Theft)).len(), 9, "too few theft samples: all are used");
        assert_eq!(figures.handle_times(None).len(), 9);
    }
}
