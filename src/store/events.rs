//! The domain event log: every change to tickets, the queue, operators and escalations is
//! appended in the transaction that makes it. Live updates (server-sent events) and the
//! supervisor's metrics are read from here, so they agree with what was committed.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreResult, WriteTx};
use crate::clock::Timestamp;

/// One committed change, as a live client receives it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DomainEvent {
    pub id: i64,
    pub at: Timestamp,
    pub topic: String,
    pub kind: String,
    pub subject_id: String,
    pub payload: serde_json::Value,
}

pub(super) async fn publish(
    tx: &mut WriteTx,
    now: Timestamp,
    topic: &str,
    kind: &str,
    subject_id: &str,
    payload: &serde_json::Value,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO events (at, topic, kind, subject_id, payload) VALUES ($1, $2, $3, $4, $5)")
        .bind(now.millis())
        .bind(topic)
        .bind(kind)
        .bind(subject_id)
        .bind(payload.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// Deletes events from before `before`, except the newest: ids must keep rising (SQLite
    /// would hand out a freed top id again, and consoles resume by id). Returns how many went.
    pub async fn prune_events(&self, before: Timestamp) -> StoreResult<u64> {
        self.write_with((), move |tx, ()| {
            Box::pin(async move {
                let done = sqlx::query("DELETE FROM events WHERE at < $1 AND id < (SELECT MAX(id) FROM events)")
                    .bind(before.millis())
                    .execute(&mut *tx)
                    .await?;
                Ok(done.rows_affected())
            })
        })
        .await
    }

    /// Events after `after_id`, oldest first, at most `limit`.
    pub async fn events_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<DomainEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, topic, kind, subject_id, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                Ok(DomainEvent {
                    id: row.try_get("id")?,
                    at: Timestamp(row.try_get("at")?),
                    topic: row.try_get("topic")?,
                    kind: row.try_get("kind")?,
                    subject_id: row.try_get("subject_id")?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }

    /// The newest event's id (0 when there is none): where a new live client starts.
    pub async fn last_event_id(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM events").fetch_one(&self.pool).await?.unwrap_or(0))
    }
}
