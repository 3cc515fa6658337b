//! Calls the hotline places: the requests a dialer claims, every attempt at placing them, and
//! what happens to a placed call once the provider drives it through our webhooks.

use std::collections::HashMap;

use sqlx::Row;

use super::escalations::{Scope, acknowledge_in, log_in};
use super::{CallTx, Store, StoreError, StoreResult, WriteTx, new_id, tickets};
use crate::clock::Timestamp;
use crate::escalation::policy::Recipient;
use crate::outbound::{CallAttempt, NewOutboundCall, OutboundCall, OutboundStatus, PlacedCall, Purpose};
use crate::telephony::ProviderStatus;
use crate::tickets::{Ticket, TicketKey};

/// Queues `calls` in the caller's transaction; one already queued under the same key is left alone.
pub(super) async fn enqueue_in(tx: &mut WriteTx, calls: &[NewOutboundCall], now: Timestamp) -> StoreResult<()> {
    for c in calls {
        sqlx::query(
            "INSERT INTO outbound_calls (id, dedup_key, purpose, escalation_id, step_ord, recipient_name, \
             recipient_email, phone, script, status, created_at, next_attempt_at) \
             VALUES ($1, $2, 'escalation', $3, $4, $5, $6, $7, $8, 'pending', $9, $9) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(&c.dedup_key)
        .bind(&c.escalation_id)
        .bind(c.step_ord)
        .bind(&c.recipient.name)
        .bind(&c.recipient.email)
        .bind(&c.phone)
        .bind(c.script)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn record_attempt(
    tx: &mut WriteTx,
    id: &str,
    now: Timestamp,
    sid: Option<&str>,
    error: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO outbound_attempts (outbound_id, at, provider_sid, error) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(now.millis())
        .bind(sid)
        .bind(error)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Adds a line about `call` to its escalation's trail, if it has one.
async fn log_call(tx: &mut WriteTx, id: &str, now: Timestamp, kind: &str, what: &str) -> StoreResult<()> {
    let row = sqlx::query("SELECT escalation_id, recipient_name FROM outbound_calls WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(()) };
    let Some(escalation_id) = row.try_get::<Option<String>, _>("escalation_id")? else { return Ok(()) };
    let name: String = row.try_get("recipient_name")?;
    log_in(tx, &escalation_id, now, "system", kind, Some(&format!("call to {name}: {what}"))).await
}

impl Store {
    /// Claims up to `limit` calls for `purpose` that are due, for `lease_ms`: while the claim
    /// holds no other dialer (on this instance or another) asks the provider for them.
    pub async fn claim_outbound_calls(
        &self,
        purpose: Purpose,
        now: Timestamp,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboundCall>> {
        let lock = self.backend.skip_locked();
        let sql = format!(
            "UPDATE outbound_calls SET claimed_until = $2 WHERE id IN (SELECT id FROM outbound_calls \
             WHERE purpose = $4 AND status = 'pending' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
             RETURNING id, escalation_id, subscription_id, phone, attempts"
        );
        self.write_with(sql, move |tx, sql| {
            Box::pin(async move {
                let rows = sqlx::query(sql)
                    .bind(now.millis())
                    .bind(now.millis() + lease_ms)
                    .bind(limit)
                    .bind(purpose.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                let mut calls = Vec::with_capacity(rows.len());
                for row in &rows {
                    // An alert is for an escalation that still waits; good news for an incident
                    // that is still resolved (reopened, it waits for the next resolution).
                    let (sql, about, wanted) = match purpose {
                        Purpose::Escalation => {
                            ("SELECT state FROM escalations WHERE id = $1", "escalation_id", "active")
                        }
                        Purpose::PowerBack => (
                            "SELECT i.status FROM power_back_subscriptions p JOIN incidents i ON i.id = p.incident_id \
                             WHERE p.id = $1",
                            "subscription_id",
                            "resolved",
                        ),
                    };
                    let state: Option<String> = sqlx::query_scalar(sql)
                        .bind(row.try_get::<Option<String>, _>(about)?)
                        .fetch_optional(&mut *tx)
                        .await?;
                    calls.push(OutboundCall {
                        id: row.try_get("id")?,
                        purpose,
                        phone: row.try_get("phone")?,
                        attempts: row.try_get("attempts")?,
                        still_needed: state.as_deref() == Some(wanted),
                    });
                }
                Ok(calls)
            })
        })
        .await
    }

    /// The provider took the call and named it `sid`. A status callback that came first keeps
    /// the status it set.
    pub async fn outbound_placed(&self, call: &OutboundCall, sid: &str, now: Timestamp) -> StoreResult<()> {
        self.write_with((call.id.clone(), sid.to_string()), move |tx, (id, sid)| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE outbound_calls SET status = CASE WHEN status = 'pending' THEN 'placed' ELSE status END, \
                     placed_at = $1, provider_sid = $2, attempts = attempts + 1, claimed_until = NULL, last_error = NULL \
                     WHERE id = $3 AND placed_at IS NULL",
                )
                .bind(now.millis())
                .bind(sid)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                record_attempt(tx, id, now, Some(sid), None).await?;
                log_call(tx, id, now, "call_placed", &format!("placed ({sid})")).await
            })
        })
        .await
    }

    /// The provider did not take the call: tried again at `retry_at`, or given up (`None`).
    pub async fn outbound_failed(
        &self,
        call: &OutboundCall,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let args = (call.id.clone(), error.to_string(), call.attempts + 1);
        self.write_with(args, move |tx, (id, error, attempt)| {
            Box::pin(async move {
                let status = if retry_at.is_some() { OutboundStatus::Pending } else { OutboundStatus::Refused };
                sqlx::query(
                    "UPDATE outbound_calls SET status = $1, attempts = attempts + 1, last_error = $2, \
                     next_attempt_at = COALESCE($3, next_attempt_at), claimed_until = NULL \
                     WHERE id = $4 AND status = 'pending'",
                )
                .bind(status.as_str())
                .bind(error)
                .bind(retry_at.map(Timestamp::millis))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                record_attempt(tx, id, now, None, Some(error)).await?;
                let what = match retry_at {
                    Some(at) => format!("attempt {attempt} failed, retrying at {at}: {error}"),
                    None => format!("attempt {attempt} failed, given up: {error}"),
                };
                log_call(tx, id, now, "call_failed", &what).await
            })
        })
        .await
    }

    /// Not placed: there is nothing left to call about.
    pub async fn outbound_dropped(&self, call: &OutboundCall, now: Timestamp) -> StoreResult<()> {
        self.write_with(call.id.clone(), move |tx, id| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE outbound_calls SET status = 'dropped', ended_at = $1, claimed_until = NULL \
                     WHERE id = $2 AND status = 'pending'",
                )
                .bind(now.millis())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The calls of the steps of the escalations `scope` picks (see `escalations::Scope`), with
    /// their attempts: (escalation, step, call).
    pub(super) async fn placed_calls(&self, scope: &Scope<'_>) -> StoreResult<Vec<(String, i64, PlacedCall)>> {
        let sql = format!(
            "SELECT id, escalation_id, step_ord, recipient_name, recipient_email, phone, status, answered_at \
             FROM outbound_calls WHERE escalation_id {} ORDER BY step_ord, created_at, id",
            scope.condition
        );
        let rows = sqlx::query(&sql).bind(scope.value).fetch_all(&self.pool).await?;
        let sql = format!(
            "SELECT a.outbound_id, a.at, a.provider_sid, a.error FROM outbound_attempts a \
             JOIN outbound_calls o ON o.id = a.outbound_id WHERE o.escalation_id {} ORDER BY a.id",
            scope.condition
        );
        let mut attempts: HashMap<String, Vec<CallAttempt>> = HashMap::new();
        for a in sqlx::query(&sql).bind(scope.value).fetch_all(&self.pool).await? {
            attempts.entry(a.try_get("outbound_id")?).or_default().push(CallAttempt {
                at: Timestamp(a.try_get("at")?),
                provider_sid: a.try_get("provider_sid")?,
                error: a.try_get("error")?,
            });
        }
        let mut calls = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let tried = attempts.remove(&id).unwrap_or_default();
            let phone: String = row.try_get("phone")?;
            calls.push((
                row.try_get("escalation_id")?,
                row.try_get::<Option<i64>, _>("step_ord")?.unwrap_or(0),
                PlacedCall {
                    recipient: Recipient {
                        name: row.try_get("recipient_name")?,
                        email: row.try_get("recipient_email")?,
                        phone: Some(phone.clone()),
                    },
                    phone,
                    status: status.parse().map_err(StoreError::Invalid)?,
                    answered_at: row.try_get::<Option<i64>, _>("answered_at")?.map(Timestamp),
                    attempts: tried,
                },
            ));
        }
        Ok(calls)
    }

    /// Calls placed, answered and acknowledged since `since`, for /metrics.
    pub async fn outbound_counts(&self, since: Timestamp) -> StoreResult<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(placed_at) AS placed, COUNT(answered_at) AS answered, \
             CAST(COALESCE(SUM(CASE WHEN status = 'acknowledged' THEN 1 ELSE 0 END), 0) AS BIGINT) AS acknowledged \
             FROM outbound_calls WHERE placed_at >= $1",
        )
        .bind(since.millis())
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("placed")?, row.try_get("answered")?, row.try_get("acknowledged")?))
    }
}

impl CallTx {
    /// The called party of the placed call `outbound_id` answered, on our call record `call_id`:
    /// the script they hear. `None` for a request that is unknown or was answered on another call.
    pub async fn answer_placed_call(
        &mut self,
        outbound_id: &str,
        call_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        let answered = sqlx::query(
            "UPDATE outbound_calls SET status = CASE WHEN status IN ('pending', 'placed') THEN 'answered' ELSE status END, \
             answered_at = $1, call_id = $2 WHERE id = $3 AND call_id IS NULL",
        )
        .bind(now.millis())
        .bind(call_id)
        .bind(outbound_id)
        .execute(&mut self.tx)
        .await?;
        if answered.rows_affected() > 0 {
            log_call(&mut self.tx, outbound_id, now, "call_answered", "answered").await?;
        }
        Ok(sqlx::query_scalar("SELECT script FROM outbound_calls WHERE id = $1 AND call_id = $2")
            .bind(outbound_id)
            .bind(call_id)
            .fetch_optional(&mut self.tx)
            .await?)
    }

    /// A status callback of the placed call `outbound_id`: an end before anyone answered is its outcome.
    pub async fn placed_call_status(
        &mut self,
        outbound_id: &str,
        status: ProviderStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        let outcome = match status {
            ProviderStatus::Busy => OutboundStatus::Busy,
            ProviderStatus::NoAnswer => OutboundStatus::NoAnswer,
            ProviderStatus::Failed => OutboundStatus::Failed,
            ProviderStatus::Canceled => OutboundStatus::Canceled,
            ProviderStatus::Completed => {
                sqlx::query("UPDATE outbound_calls SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                    .bind(now.millis())
                    .bind(outbound_id)
                    .execute(&mut self.tx)
                    .await?;
                return Ok(());
            }
            ProviderStatus::Ringing | ProviderStatus::InProgress => return Ok(()),
        };
        let ended = sqlx::query(
            "UPDATE outbound_calls SET status = $1, ended_at = $2 WHERE id = $3 AND status IN ('pending', 'placed')",
        )
        .bind(outcome.as_str())
        .bind(now.millis())
        .bind(outbound_id)
        .execute(&mut self.tx)
        .await?;
        if ended.rows_affected() > 0 {
            log_call(&mut self.tx, outbound_id, now, "call_ended", &format!("{outcome}, not acknowledged")).await?;
        }
        Ok(())
    }

    /// The ticket a placed call on our call `call_id` is about, and whether its escalation still
    /// waits for an acknowledgement.
    pub async fn placed_call_ticket(&mut self, call_id: &str) -> StoreResult<Option<(Ticket, bool)>> {
        let row = sqlx::query(
            "SELECT e.ticket_id, e.state FROM outbound_calls o JOIN escalations e ON e.id = o.escalation_id \
             WHERE o.call_id = $1",
        )
        .bind(call_id)
        .fetch_optional(&mut self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (ticket_id, state): (String, String) = (row.try_get("ticket_id")?, row.try_get("state")?);
        let ticket = tickets::fetch_ticket(&mut self.tx, &TicketKey::Id(ticket_id)).await?;
        Ok(ticket.map(|t| (t, state == "active")))
    }

    /// The called party of a placed call pressed 1: its escalation is acknowledged as the
    /// e-mail link's POST does it, by the person called. `false` when it no longer waited.
    pub async fn acknowledge_placed_call(&mut self, call_id: &str, now: Timestamp) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT id, escalation_id, recipient_email FROM outbound_calls WHERE call_id = $1 AND escalation_id IS NOT NULL",
        )
        .bind(call_id)
        .fetch_optional(&mut self.tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let (id, escalation_id, email): (String, String, String) =
            (row.try_get("id")?, row.try_get("escalation_id")?, row.try_get("recipient_email")?);
        if !acknowledge_in(&mut self.tx, &escalation_id, &email, now).await? {
            return Ok(false);
        }
        sqlx::query("UPDATE outbound_calls SET status = 'acknowledged' WHERE id = $1")
            .bind(&id)
            .execute(&mut self.tx)
            .await?;
        log_call(&mut self.tx, &id, now, "call_acknowledged", "pressed 1").await?;
        Ok(true)
    }
}
