//! Escalations: started with their ticket, their steps as rows with due times, an audit log.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, StoreResult, events, new_id};
use crate::clock::Timestamp;
use crate::escalation::policy::Policies;
use crate::escalation::{Escalation, EscalationState, Step};
use crate::tickets::Ticket;

const SELECT_ESCALATIONS: &str = "SELECT e.id, e.ticket_id, t.number AS ticket_number, e.state, e.policy, \
     e.acknowledged_by, e.acknowledged_at, e.created_at FROM escalations e JOIN tickets t ON t.id = e.ticket_id";

async fn log_in(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    now: Timestamp,
    actor: &str,
    kind: &str,
    detail: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO escalation_log (escalation_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(now.millis())
        .bind(actor)
        .bind(kind)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    events::publish(tx, now, "escalation", kind, id, &serde_json::json!({"actor": actor, "detail": detail})).await
}

/// Starts the escalation of `ticket` under the first matching policy, inside the ticket's own
/// transaction; a ticket no policy covers is not escalated. Starting twice is a no-op.
pub(super) async fn start_in(
    tx: &mut Transaction<'static, Any>,
    ticket: &Ticket,
    policies: &Policies,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let district: Option<String> = match &ticket.settlement {
        Some(s) => {
            sqlx::query_scalar("SELECT district FROM settlements WHERE id = $1")
                .bind(s.id)
                .fetch_optional(&mut **tx)
                .await?
        }
        None => None,
    };
    let Some(policy) = policies.matching(ticket.category, district.as_deref()) else { return Ok(None) };
    let id = new_id();
    let snapshot = serde_json::to_string(&policy.plan).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let inserted = sqlx::query(
        "INSERT INTO escalations (id, ticket_id, dedup_key, state, policy, policy_snapshot, created_at) \
         VALUES ($1, $2, $3, 'active', $4, $5, $6) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&id)
    .bind(&ticket.id)
    .bind(format!("ticket:{}", ticket.id))
    .bind(&policy.name)
    .bind(&snapshot)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    for step in &policy.plan {
        sqlx::query(
            "INSERT INTO escalation_steps (escalation_id, ord, due_at, recipients, channel) VALUES ($1, $2, $3, $4, 'email')",
        )
        .bind(&id)
        .bind(i64::from(step.order))
        .bind(now.plus_seconds(step.after_s).millis())
        .bind(serde_json::to_string(&step.recipients).map_err(|e| StoreError::Invalid(e.to_string()))?)
        .execute(&mut **tx)
        .await?;
    }
    log_in(tx, &id, now, "system", "started", Some(&format!("policy {} for ticket {}", policy.name, ticket.number)))
        .await?;
    Ok(Some(id))
}

fn escalation_from(row: &AnyRow) -> StoreResult<Escalation> {
    let state: String = row.try_get("state")?;
    let number: i64 = row.try_get("ticket_number")?;
    Ok(Escalation {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        ticket_number: number.to_string(),
        state: state.parse().map_err(StoreError::Invalid)?,
        policy: row.try_get("policy")?,
        steps: Vec::new(),
        acknowledged_by: row.try_get("acknowledged_by")?,
        acknowledged_at: row.try_get::<Option<i64>, _>("acknowledged_at")?.map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

impl Store {
    /// Escalations, newest first, each with its steps.
    pub async fn escalations(&self, state: Option<EscalationState>) -> StoreResult<Vec<Escalation>> {
        let sql =
            format!("{SELECT_ESCALATIONS} WHERE ($1 IS NULL OR e.state = $1) ORDER BY e.created_at DESC LIMIT 500");
        let rows = sqlx::query(&sql).bind(state.map(EscalationState::as_str)).fetch_all(&self.pool).await?;
        let mut escalations = rows.iter().map(escalation_from).collect::<StoreResult<Vec<_>>>()?;
        for e in &mut escalations {
            e.steps = self.escalation_steps(&e.id).await?;
        }
        Ok(escalations)
    }

    pub async fn escalation(&self, id: &str) -> StoreResult<Option<Escalation>> {
        let sql = format!("{SELECT_ESCALATIONS} WHERE e.id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await? else { return Ok(None) };
        let mut escalation = escalation_from(&row)?;
        escalation.steps = self.escalation_steps(id).await?;
        Ok(Some(escalation))
    }

    async fn escalation_steps(&self, id: &str) -> StoreResult<Vec<Step>> {
        let rows = sqlx::query(
            "SELECT ord, due_at, fired_at, recipients, channel FROM escalation_steps WHERE escalation_id = $1 ORDER BY ord",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let recipients: String = row.try_get("recipients")?;
                Ok(Step {
                    order: row.try_get("ord")?,
                    due_at: Timestamp(row.try_get("due_at")?),
                    fired_at: row.try_get::<Option<i64>, _>("fired_at")?.map(Timestamp),
                    recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                    channel: row.try_get("channel")?,
                })
            })
            .collect()
    }

    /// Acknowledges an active escalation: no further steps fire. Acknowledging twice is a conflict.
    pub async fn acknowledge_escalation(&self, id: &str, actor: &str, now: Timestamp) -> StoreResult<Escalation> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE escalations SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2 \
             WHERE id = $3 AND state = 'active'",
        )
        .bind(actor)
        .bind(now.millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(self.why_not(&mut tx, id, "acknowledged").await);
        }
        log_in(&mut tx, id, now, actor, "acknowledged", None).await?;
        tx.commit().await?;
        self.escalation(id).await?.ok_or_else(|| StoreError::NotFound("escalation".into()))
    }

    /// Resolves an escalation (active or acknowledged): it is closed with the dispatcher's note.
    pub async fn resolve_escalation(
        &self,
        id: &str,
        actor: &str,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<Escalation> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE escalations SET state = 'resolved', resolved_at = $1, resolution_note = $2 \
             WHERE id = $3 AND state <> 'resolved'",
        )
        .bind(now.millis())
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(self.why_not(&mut tx, id, "resolved").await);
        }
        log_in(&mut tx, id, now, actor, "resolved", Some(note)).await?;
        tx.commit().await?;
        self.escalation(id).await?.ok_or_else(|| StoreError::NotFound("escalation".into()))
    }

    /// Not found, or already past that state.
    async fn why_not(&self, tx: &mut Transaction<'static, Any>, id: &str, wanted: &str) -> StoreError {
        let state: Result<Option<String>, _> =
            sqlx::query_scalar("SELECT state FROM escalations WHERE id = $1").bind(id).fetch_optional(&mut **tx).await;
        match state {
            Ok(Some(state)) => StoreError::Conflict(format!("the escalation is {state} and cannot be {wanted}")),
            Ok(None) => StoreError::NotFound("escalation".into()),
            Err(e) => e.into(),
        }
    }
}
