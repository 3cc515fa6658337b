//! The outbox: every message waits here until a channel has delivered it, so a restart or a
//! mail-server outage delays it and nothing drops it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::escalations::log_in;
use super::{Store, StoreResult, WriteTx, new_id};
use crate::clock::Timestamp;
use crate::escalation::mail::{NewMessage, OutboxMessage};
use crate::escalation::policy::Recipient;

/// Queues `messages` in the caller's transaction; one already queued under the same key is left alone.
pub(super) async fn enqueue_in(tx: &mut WriteTx, messages: &[NewMessage], now: Timestamp) -> StoreResult<()> {
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (id, dedup_key, escalation_id, step_ord, purpose, channel, recipient_name, \
             recipient_email, subject, body, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(&m.dedup_key)
        .bind(&m.escalation_id)
        .bind(m.step_ord)
        .bind(m.purpose.as_str())
        .bind(m.channel)
        .bind(&m.recipient.name)
        .bind(&m.recipient.email)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn message_from(row: &AnyRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        escalation_id: row.try_get("escalation_id")?,
        channel: row.try_get("channel")?,
        recipient: Recipient {
            name: row.try_get("recipient_name")?,
            email: row.try_get("recipient_email")?,
            phone: None,
        },
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        attempts: row.try_get("attempts")?,
    })
}

impl Store {
    /// Claims up to `limit` messages that are due, for `lease_ms`: while the claim holds no other
    /// worker (on this instance or another) takes them; an expired claim lets one try again.
    pub async fn claim_messages(&self, now: Timestamp, lease_ms: i64, limit: i64) -> StoreResult<Vec<OutboxMessage>> {
        let lock = self.backend.skip_locked();
        let sql = format!(
            "UPDATE outbox SET claimed_until = $2 WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL \
             AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
             ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
             RETURNING id, escalation_id, channel, recipient_name, recipient_email, subject, body, attempts"
        );
        self.write_with(sql, move |tx, sql| {
            Box::pin(async move {
                let rows = sqlx::query(sql)
                    .bind(now.millis())
                    .bind(now.millis() + lease_ms)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                rows.iter().map(message_from).collect()
            })
        })
        .await
    }

    /// Records a delivery; the escalation's trail says who was told.
    pub async fn message_sent(&self, message: &OutboxMessage, now: Timestamp) -> StoreResult<()> {
        self.write_with(message.clone(), move |tx, message| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, claimed_until = NULL, last_error = NULL \
                     WHERE id = $2 AND sent_at IS NULL",
                )
                .bind(now.millis())
                .bind(&message.id)
                .execute(&mut *tx)
                .await?;
                if let Some(escalation_id) = &message.escalation_id {
                    let detail = format!(
                        "{} to {} <{}>: {}",
                        message.channel, message.recipient.name, message.recipient.email, message.subject
                    );
                    log_in(tx, escalation_id, now, "system", "notified", Some(&detail)).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Records a failed attempt and when to try again.
    pub async fn message_failed(
        &self,
        message: &OutboxMessage,
        error: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write_with((message.clone(), error.to_string()), move |tx, (message, error)| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, \
                     claimed_until = NULL WHERE id = $3 AND sent_at IS NULL",
                )
                .bind(error)
                .bind(retry_at.millis())
                .bind(&message.id)
                .execute(&mut *tx)
                .await?;
                if let Some(escalation_id) = &message.escalation_id {
                    let detail = format!(
                        "{} to <{}> failed (attempt {}), retrying at {retry_at}: {error}",
                        message.channel,
                        message.recipient.email,
                        message.attempts + 1
                    );
                    log_in(tx, escalation_id, now, "system", "delivery_failed", Some(&detail)).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Messages not delivered yet: what the outbox still owes.
    pub async fn undelivered_messages(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetch_one(&self.pool).await?)
    }
}
