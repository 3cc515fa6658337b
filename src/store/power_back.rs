//! Callers waiting to be called when the power returns: their subscriptions, the calls queued
//! when an incident is resolved, and the "still off" answer that reopens it.

use sqlx::Row;

use super::{CallTx, StoreResult, WriteTx, events, new_id};
use crate::clock::Timestamp;
use crate::outbound::power_back::SCRIPT;
use crate::settlements::SettlementRef;
use crate::tickets::TicketNumber;

/// What a power-back call is about, found from the call the provider drives.
#[derive(Debug, Clone)]
pub struct PowerBackCall {
    pub incident_id: String,
    pub settlement: SettlementRef,
    /// The subscriber's number, as they called from.
    pub phone: String,
}

/// Queues one call for every subscriber of `incident_id` who has not been told yet; part of the
/// resolution's transaction. A call dropped because the incident reopened does not count as
/// told, so the next resolution rings again. Returns how many were queued.
pub(super) async fn queue_calls_in(tx: &mut WriteTx, incident_id: &str, now: Timestamp) -> StoreResult<u64> {
    // One statement however many subscribers a storm incident has. The id and the key derive
    // from the subscription and this resolution, so a resolution fired twice queues nothing twice.
    let queued = sqlx::query(
        "INSERT INTO outbound_calls (id, dedup_key, purpose, subscription_id, recipient_name, phone, script, status, \
         created_at, next_attempt_at) \
         SELECT p.id || '-' || CAST($2 AS TEXT), 'power-back:' || p.id || ':' || CAST($2 AS TEXT), 'power_back', p.id, \
         'caller', p.phone, $3, 'pending', $2, $2 FROM power_back_subscriptions p \
         WHERE p.incident_id = $1 AND NOT EXISTS (SELECT 1 FROM outbound_calls o \
         WHERE o.subscription_id = p.id AND o.status <> 'dropped') \
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(incident_id)
    .bind(now.millis())
    .bind(SCRIPT)
    .execute(&mut *tx)
    .await?;
    Ok(queued.rows_affected())
}

impl CallTx {
    /// The unresolved incident the ticket `number` was grouped into, if any: what a
    /// power-back call would be about.
    pub async fn open_incident_of(&mut self, number: TicketNumber) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT i.id FROM tickets t JOIN incidents i ON i.id = t.incident_id \
             WHERE t.number = $1 AND i.status <> 'resolved'",
        )
        .bind(number.get())
        .fetch_optional(&mut self.tx)
        .await?)
    }

    /// `phone` is to be called when `incident_id` is resolved. `false` when that number already
    /// waits for it (one call per number and incident).
    pub async fn subscribe_power_back(
        &mut self,
        incident_id: &str,
        phone: &str,
        call_id: &str,
        ticket: Option<TicketNumber>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO power_back_subscriptions (id, incident_id, phone, call_id, ticket_id, created_at) \
             VALUES ($1, $2, $3, $4, (SELECT id FROM tickets WHERE number = $5), $6) \
             ON CONFLICT (incident_id, phone) DO NOTHING",
        )
        .bind(new_id())
        .bind(incident_id)
        .bind(phone)
        .bind(call_id)
        .bind(ticket.map(TicketNumber::get))
        .bind(now.millis())
        .execute(&mut self.tx)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    /// The power-back call the provider drives as our call `call_id`, if it is one.
    pub async fn power_back_call(&mut self, call_id: &str) -> StoreResult<Option<PowerBackCall>> {
        let row = sqlx::query(
            "SELECT p.incident_id, p.phone, s.id AS settlement_id, s.name, s.postcode FROM outbound_calls o \
             JOIN power_back_subscriptions p ON p.id = o.subscription_id JOIN incidents i ON i.id = p.incident_id \
             JOIN settlements s ON s.id = i.settlement_id WHERE o.call_id = $1",
        )
        .bind(call_id)
        .fetch_optional(&mut self.tx)
        .await?;
        row.map(|row| {
            Ok(PowerBackCall {
                incident_id: row.try_get("incident_id")?,
                settlement: SettlementRef {
                    id: row.try_get("settlement_id")?,
                    name: row.try_get("name")?,
                    postcode: row.try_get("postcode")?,
                },
                phone: row.try_get("phone")?,
            })
        })
        .transpose()
    }

    /// A subscriber says the power is still off: the incident they were told about is reopened,
    /// with this report as its latest, so the report joins it — unless the settlement already
    /// has another open incident, which the report joins instead.
    pub async fn reopen_for_report(&mut self, call: &PowerBackCall, now: Timestamp) -> StoreResult<()> {
        let reopened = sqlx::query(
            "UPDATE incidents SET status = 'open', resolved_at = NULL, last_report_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'resolved' AND NOT EXISTS (SELECT 1 FROM incidents o \
             WHERE o.settlement_id = $3 AND o.status <> 'resolved')",
        )
        .bind(now.millis())
        .bind(&call.incident_id)
        .bind(call.settlement.id)
        .execute(&mut self.tx)
        .await?;
        if reopened.rows_affected() == 1 {
            let payload = serde_json::json!({"status": "open", "by": "ivr", "reason": "power still off after the power-back call"});
            events::publish(&mut self.tx, now, "incident", "updated", &call.incident_id, &payload).await?;
        }
        Ok(())
    }
}
