//! The supervisor's figures, computed from the queue and call records (the same rows the event
//! log describes), so every instance reports the same numbers.

use sqlx::Row;

use super::{Store, StoreResult};
use crate::clock::Timestamp;

/// Raw counts and sums over a period; `metrics` turns them into rates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricCounts {
    pub waiting: i64,
    pub oldest_enqueued_at: Option<Timestamp>,
    pub answered: i64,
    pub answered_within_sl: i64,
    pub answer_wait_ms: i64,
    pub abandoned: i64,
    pub handled: i64,
    pub handle_ms: i64,
    pub callbacks_pending: i64,
    pub calls_ended: i64,
    pub calls_contained: i64,
    /// (status, count) of operators whose console is alive.
    pub operators: Vec<(String, i64)>,
}

impl Store {
    /// Counts since `since`; a call is answered "within the service level" when an operator took
    /// it within `sl_ms` of joining the queue; operators count when seen since `alive_since`.
    pub async fn metric_counts(
        &self,
        since: Timestamp,
        sl_ms: i64,
        alive_since: Timestamp,
    ) -> StoreResult<MetricCounts> {
        let mut conn = self.pool.acquire().await?;
        let waiting =
            sqlx::query("SELECT COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM queue_items WHERE state = 'waiting'")
                .fetch_one(&mut *conn)
                .await?;
        // SUMs are cast so both databases hand back a plain integer.
        let answered = sqlx::query(
            "SELECT COUNT(*) AS n, \
             CAST(COALESCE(SUM(CASE WHEN assigned_at - enqueued_at <= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS within, \
             CAST(COALESCE(SUM(assigned_at - enqueued_at), 0) AS BIGINT) AS wait \
             FROM queue_items WHERE kind = 'live_call' AND assigned_at >= $1",
        )
        .bind(since.millis())
        .bind(sl_ms)
        .fetch_one(&mut *conn)
        .await?;
        let abandoned: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM queue_items WHERE kind = 'live_call' AND state = 'abandoned' \
             AND operator_id IS NULL AND finished_at >= $1",
        )
        .bind(since.millis())
        .fetch_one(&mut *conn)
        .await?;
        let handled = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(finished_at - assigned_at), 0) AS BIGINT) AS total \
             FROM queue_items WHERE state = 'done' AND assigned_at IS NOT NULL AND finished_at >= $1",
        )
        .bind(since.millis())
        .fetch_one(&mut *conn)
        .await?;
        let callbacks_pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM queue_items WHERE kind = 'callback' AND state IN ('waiting', 'assigned')",
        )
        .fetch_one(&mut *conn)
        .await?;
        let calls = sqlx::query(
            "SELECT COUNT(*) AS n, \
             CAST(COALESCE(SUM(CASE WHEN queued_at IS NULL AND status = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS contained \
             FROM calls WHERE ended_at >= $1",
        )
        .bind(since.millis())
        .fetch_one(&mut *conn)
        .await?;
        // Calls whose records retention removed were counted by the hour they ended first.
        let pruned = sqlx::query(
            "SELECT CAST(COALESCE(SUM(ended), 0) AS BIGINT) AS n, CAST(COALESCE(SUM(contained), 0) AS BIGINT) AS contained \
             FROM call_tallies WHERE hour >= $1",
        )
        .bind(since.millis())
        .fetch_one(&mut *conn)
        .await?;
        let operators = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM operators WHERE seen_at >= $1 GROUP BY status ORDER BY status",
        )
        .bind(alive_since.millis())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("status")?, row.try_get("n")?)))
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MetricCounts {
            waiting: waiting.try_get("n")?,
            oldest_enqueued_at: waiting.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
            answered: answered.try_get("n")?,
            answered_within_sl: answered.try_get("within")?,
            answer_wait_ms: answered.try_get("wait")?,
            abandoned,
            handled: handled.try_get("n")?,
            handle_ms: handled.try_get("total")?,
            callbacks_pending,
            calls_ended: calls.try_get::<i64, _>("n")? + pruned.try_get::<i64, _>("n")?,
            calls_contained: calls.try_get::<i64, _>("contained")? + pruned.try_get::<i64, _>("contained")?,
            operators,
        })
    }
}

/// What the alerts and the service-level figures need beyond [`MetricCounts`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchCounts {
    /// Live calls taken by an operator since `since` within the longer service-level threshold.
    pub answered_within_long_sl: i64,
    /// Hazard live calls since `since` that an operator took, or whose caller gave up waiting.
    pub hazard_calls: i64,
    /// Of those, the ones an operator took within the hazard threshold.
    pub hazard_answered_within_sl: i64,
    /// When the oldest escalation nobody has acknowledged started.
    pub oldest_unacknowledged_at: Option<Timestamp>,
    /// Escalations nobody has acknowledged whose every step has fired: the policy has told
    /// everyone it names.
    pub escalations_exhausted: i64,
    /// When the oldest message still owed by the outbox was queued.
    pub oldest_undelivered_at: Option<Timestamp>,
}

impl Store {
    /// Counts since `since`: live calls answered within `long_sl_ms`, hazard calls and those
    /// answered within `hazard_sl_ms`; and, whenever they began, unacknowledged escalations and
    /// undelivered messages.
    pub async fn watch_counts(&self, since: Timestamp, long_sl_ms: i64, hazard_sl_ms: i64) -> StoreResult<WatchCounts> {
        let mut conn = self.pool.acquire().await?;
        let answered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM queue_items \
             WHERE kind = 'live_call' AND assigned_at >= $1 AND assigned_at - enqueued_at <= $2",
        )
        .bind(since.millis())
        .bind(long_sl_ms)
        .fetch_one(&mut *conn)
        .await?;
        // An abandoned hazard call counts against the figure, as an emergency line counts it.
        let hazards = sqlx::query(
            "SELECT COUNT(*) AS n, \
             CAST(COALESCE(SUM(CASE WHEN assigned_at IS NOT NULL AND assigned_at - enqueued_at <= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS within \
             FROM queue_items WHERE kind = 'live_call' AND category = 'hazard' \
             AND (assigned_at >= $1 OR (state = 'abandoned' AND operator_id IS NULL AND finished_at >= $1))",
        )
        .bind(since.millis())
        .bind(hazard_sl_ms)
        .fetch_one(&mut *conn)
        .await?;
        let oldest_unacknowledged: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM escalations WHERE state = 'active'")
                .fetch_one(&mut *conn)
                .await?;
        let exhausted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM escalations e WHERE e.state = 'active' \
             AND NOT EXISTS (SELECT 1 FROM escalation_steps s WHERE s.escalation_id = e.id AND s.fired_at IS NULL)",
        )
        .fetch_one(&mut *conn)
        .await?;
        let oldest_undelivered: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&mut *conn)
                .await?;
        Ok(WatchCounts {
            answered_within_long_sl: answered,
            hazard_calls: hazards.try_get("n")?,
            hazard_answered_within_sl: hazards.try_get("within")?,
            oldest_unacknowledged_at: oldest_unacknowledged.map(Timestamp),
            escalations_exhausted: exhausted,
            oldest_undelivered_at: oldest_undelivered.map(Timestamp),
        })
    }
}
