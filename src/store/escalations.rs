//! Escalations: started with their ticket, their steps as rows with due times fired exactly
//! once, reminders, crew assignment, and an audit log of all of it.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Store, StoreError, StoreResult, WriteTx, crews, events, new_id, outbound, outbox};
use crate::auth::Role;
use crate::clock::Timestamp;
use crate::crews::Crew;
use crate::escalation::mail::NewMessage;
use crate::escalation::policy::{Policies, Recipient, StepChannel, Target};
use crate::escalation::{DeliveryStatus, Escalation, EscalationState, LogEntry, Notification, Step};
use crate::outbound::NewOutboundCall;
use crate::tickets::{Ticket, TicketNumber};

const SELECT_ESCALATIONS: &str = "SELECT e.id, e.ticket_id, t.number AS ticket_number, e.state, e.policy, \
     e.acknowledged_by, e.acknowledged_at, e.crew_id, e.created_at, e.resolved_at, e.resolution_note \
     FROM escalations e JOIN tickets t ON t.id = e.ticket_id";

/// A step whose time has come, of an escalation nobody has acknowledged.
#[derive(Debug, Clone)]
pub struct DueStep {
    pub escalation_id: String,
    pub ticket_id: String,
    pub order: i64,
    pub targets: Vec<Target>,
    pub channel: StepChannel,
}

/// An acknowledged escalation still unresolved when its reminder is due.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub escalation_id: String,
    pub ticket_id: String,
    pub remind_at: Timestamp,
    pub remind_after_s: i64,
    pub acknowledged_by: String,
    pub acknowledged_at: Timestamp,
    /// Everyone the steps told so far: they hear that it is still open.
    pub told: Vec<Recipient>,
}

/// How the steps of escalations started since some moment fired, as the load test reads them
/// back: a step is fired by one conditional update that also logs `step_fired`, so a step with
/// two such log lines fired twice, and one with a line but not marked fired lost its mark.
#[derive(Debug, Clone, Default)]
pub struct StepFirings {
    pub escalations: usize,
    pub steps: usize,
    pub fired: usize,
    /// Steps with more than one `step_fired` line: (escalation id, step, lines).
    pub fired_twice: Vec<(String, i64, usize)>,
    /// Steps marked fired without a `step_fired` line, or with one but not marked fired.
    pub mismatched: Vec<(String, i64)>,
    /// Messages of those escalations in the outbox, and how many of them were sent.
    pub messages: usize,
    pub messages_sent: usize,
}

/// Accounts with an e-mail address, for steps that notify a role.
async fn people_by_role<'e, E: sqlx::Executor<'e, Database = Any>>(conn: E) -> StoreResult<Vec<(Role, Recipient)>> {
    let rows = sqlx::query("SELECT username, role, email FROM users WHERE email IS NOT NULL ORDER BY username")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let role: String = row.try_get("role")?;
            Ok((
                role.parse().map_err(StoreError::Invalid)?,
                Recipient { name: row.try_get("username")?, email: row.try_get("email")?, phone: None },
            ))
        })
        .collect()
}

fn to_json(value: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

pub(super) async fn log_in(
    tx: &mut WriteTx,
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
        .execute(&mut *tx)
        .await?;
    events::publish(tx, now, "escalation", kind, id, &serde_json::json!({"actor": actor, "detail": detail})).await
}

/// Acknowledges the escalation `id` if it is active, in the caller's transaction: whoever
/// acknowledges (the console, an e-mail link, a key pressed on a call) goes through here.
/// `false` when it was not active.
pub(super) async fn acknowledge_in(tx: &mut WriteTx, id: &str, actor: &str, now: Timestamp) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE escalations SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, \
         remind_at = $2 + COALESCE(remind_after_s, 3600) * 1000 WHERE id = $3 AND state = 'active'",
    )
    .bind(actor)
    .bind(now.millis())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(false);
    }
    log_in(tx, id, now, actor, "acknowledged", None).await?;
    Ok(true)
}

/// Step `order` of `escalation` among `steps`.
fn step_of<'s>(steps: &'s mut HashMap<String, Vec<Step>>, escalation: &str, order: i64) -> Option<&'s mut Step> {
    steps.get_mut(escalation)?.iter_mut().find(|s| s.order == order)
}

/// Which escalations a read of steps covers: `escalation_id` then `condition`, which names `$1`
/// and is bound to `value` (one escalation: `= $1`; a listing: `IN (SELECT ...)`).
pub(super) struct Scope<'a> {
    pub condition: &'a str,
    pub value: Option<&'a str>,
}

/// Starts the escalation of `ticket` under the first matching policy, inside the ticket's own
/// transaction; a ticket no policy covers is not escalated. Starting twice is a no-op.
pub(super) async fn start_in(
    tx: &mut WriteTx,
    ticket: &Ticket,
    policies: &Policies,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let district: Option<String> = match &ticket.settlement {
        Some(s) => {
            sqlx::query_scalar("SELECT district FROM settlements WHERE id = $1")
                .bind(s.id)
                .fetch_optional(&mut *tx)
                .await?
        }
        None => None,
    };
    let Some(policy) = policies.matching(ticket.category, ticket.priority.get(), district.as_deref()) else {
        return Ok(None);
    };
    // The policy as it is now, kept once however many escalations start under it.
    let snapshot = to_json(&policy.plan)?;
    let digest = format!("sha256:{}", &hex::encode(Sha256::digest(snapshot.as_bytes()))[..16]);
    sqlx::query("INSERT INTO policy_snapshots (digest, body) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING")
        .bind(&digest)
        .bind(&snapshot)
        .execute(&mut *tx)
        .await?;
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO escalations (id, ticket_id, dedup_key, state, policy, policy_snapshot, created_at, remind_after_s) \
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&id)
    .bind(&ticket.id)
    .bind(format!("ticket:{}", ticket.id))
    .bind(&policy.name)
    .bind(&digest)
    .bind(now.millis())
    .bind(policy.remind_after_s)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    let by_role = people_by_role(&mut *tx).await?;
    for step in policy.schedule(now, &by_role) {
        sqlx::query(
            "INSERT INTO escalation_steps (escalation_id, ord, due_at, targets, recipients, channel) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(i64::from(step.order))
        .bind(step.due_at.millis())
        .bind(to_json(&step.targets)?)
        .bind(to_json(&step.recipients)?)
        .bind(step.channel.as_str())
        .execute(&mut *tx)
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
        ticket_number: TicketNumber::from_stored(number).map_err(StoreError::Invalid)?,
        state: state.parse().map_err(StoreError::Invalid)?,
        policy: row.try_get("policy")?,
        steps: Vec::new(),
        acknowledged_by: row.try_get("acknowledged_by")?,
        acknowledged_at: row.try_get::<Option<i64>, _>("acknowledged_at")?.map(Timestamp),
        crew_id: row.try_get("crew_id")?,
        created_at: Timestamp(row.try_get("created_at")?),
        resolved_at: row.try_get::<Option<i64>, _>("resolved_at")?.map(Timestamp),
        resolution_note: row.try_get("resolution_note")?,
    })
}

impl Store {
    /// Escalations, newest first, each with its steps.
    pub async fn escalations(&self, state: Option<EscalationState>) -> StoreResult<Vec<Escalation>> {
        const LISTED: &str = "WHERE ($1 IS NULL OR e.state = $1) ORDER BY e.created_at DESC LIMIT 500";
        let rows = sqlx::query(&format!("{SELECT_ESCALATIONS} {LISTED}"))
            .bind(state.map(EscalationState::as_str))
            .fetch_all(&self.pool)
            .await?;
        let mut escalations = rows.iter().map(escalation_from).collect::<StoreResult<Vec<_>>>()?;
        // Their steps in three reads for the whole list, not three per escalation.
        let listed = format!("IN (SELECT e.id FROM escalations e {LISTED})");
        let mut steps =
            self.escalation_steps(&Scope { condition: &listed, value: state.map(EscalationState::as_str) }).await?;
        for e in &mut escalations {
            e.steps = steps.remove(&e.id).unwrap_or_default();
        }
        Ok(escalations)
    }

    pub async fn escalation(&self, id: &str) -> StoreResult<Option<Escalation>> {
        let sql = format!("{SELECT_ESCALATIONS} WHERE e.id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await? else { return Ok(None) };
        let mut escalation = escalation_from(&row)?;
        let mut steps = self.escalation_steps(&Scope { condition: "= $1", value: Some(id) }).await?;
        escalation.steps = steps.remove(id).unwrap_or_default();
        Ok(Some(escalation))
    }

    /// The steps of the escalations `scope` picks, with their messages and calls, by escalation.
    async fn escalation_steps(&self, scope: &Scope<'_>) -> StoreResult<HashMap<String, Vec<Step>>> {
        let sql = format!(
            "SELECT escalation_id, ord, due_at, fired_at, recipients, channel FROM escalation_steps \
             WHERE escalation_id {} ORDER BY ord",
            scope.condition
        );
        let rows = sqlx::query(&sql).bind(scope.value).fetch_all(&self.pool).await?;
        let sql = format!(
            "SELECT escalation_id, step_ord, recipient_name, recipient_email, attempts, sent_at, last_error FROM outbox \
             WHERE escalation_id {} AND purpose = 'step' ORDER BY step_ord, recipient_email",
            scope.condition
        );
        let sent = sqlx::query(&sql).bind(scope.value).fetch_all(&self.pool).await?;
        let mut steps: HashMap<String, Vec<Step>> = HashMap::new();
        for row in &rows {
            let recipients: String = row.try_get("recipients")?;
            steps.entry(row.try_get("escalation_id")?).or_default().push(Step {
                order: row.try_get("ord")?,
                due_at: Timestamp(row.try_get("due_at")?),
                fired_at: row.try_get::<Option<i64>, _>("fired_at")?.map(Timestamp),
                recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                channel: row.try_get("channel")?,
                notifications: Vec::new(),
                calls: Vec::new(),
            });
        }
        for row in &sent {
            let attempts: i64 = row.try_get("attempts")?;
            let sent_at = row.try_get::<Option<i64>, _>("sent_at")?.map(Timestamp);
            let status = match (sent_at, attempts) {
                (Some(_), _) => DeliveryStatus::Sent,
                (None, 0) => DeliveryStatus::Pending,
                (None, _) => DeliveryStatus::Failing,
            };
            let notification = Notification {
                recipient: Recipient {
                    name: row.try_get("recipient_name")?,
                    email: row.try_get("recipient_email")?,
                    phone: None,
                },
                status,
                attempts,
                sent_at,
                last_error: row.try_get("last_error")?,
            };
            let escalation: String = row.try_get("escalation_id")?;
            if let Some(step) = step_of(&mut steps, &escalation, row.try_get("step_ord")?) {
                step.notifications.push(notification);
            }
        }
        for (escalation, order, call) in self.placed_calls(scope).await? {
            if let Some(step) = step_of(&mut steps, &escalation, order) {
                step.calls.push(call);
            }
        }
        Ok(steps)
    }

    /// The escalation's audit trail, oldest first.
    pub async fn escalation_log(&self, id: &str) -> StoreResult<Vec<LogEntry>> {
        let rows =
            sqlx::query("SELECT at, actor, kind, detail FROM escalation_log WHERE escalation_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(LogEntry {
                    at: Timestamp(row.try_get("at")?),
                    actor: row.try_get("actor")?,
                    kind: row.try_get("kind")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }

    pub async fn count_escalations(&self, state: EscalationState) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM escalations WHERE state = $1")
            .bind(state.as_str())
            .fetch_one(&self.pool)
            .await?)
    }

    /// Steps due by `now` of escalations still active, oldest first.
    pub async fn due_steps(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<DueStep>> {
        let rows = sqlx::query(
            "SELECT s.escalation_id, s.ord, s.targets, s.recipients, s.channel, e.ticket_id FROM escalation_steps s \
             JOIN escalations e ON e.id = s.escalation_id \
             WHERE s.fired_at IS NULL AND s.due_at <= $1 AND e.state = 'active' ORDER BY s.due_at LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                // Steps started before targets existed name their people directly.
                let targets = match row.try_get::<Option<String>, _>("targets")? {
                    Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Invalid(e.to_string()))?,
                    None => {
                        let people: Vec<Recipient> =
                            serde_json::from_str(&row.try_get::<String, _>("recipients")?).unwrap_or_default();
                        people.into_iter().map(Target::Person).collect()
                    }
                };
                Ok(DueStep {
                    escalation_id: row.try_get("escalation_id")?,
                    ticket_id: row.try_get("ticket_id")?,
                    order: row.try_get("ord")?,
                    targets,
                    channel: row.try_get::<String, _>("channel")?.parse().map_err(StoreError::Invalid)?,
                })
            })
            .collect()
    }

    /// Accounts with an e-mail address, for steps that notify a role.
    pub async fn people_by_role(&self) -> StoreResult<Vec<(Role, Recipient)>> {
        people_by_role(&self.pool).await
    }

    /// Fires a step: marks it, records whom it told and queues their messages and calls, all at
    /// once. `false` when it had already fired (another worker, another instance) or the
    /// escalation is no longer active: then nothing is written, so a step never mails or rings twice.
    pub async fn fire_step(
        &self,
        step: &DueStep,
        recipients: &[Recipient],
        messages: &[NewMessage],
        calls: &[NewOutboundCall],
        now: Timestamp,
    ) -> StoreResult<bool> {
        let firing = Arc::new((step.clone(), recipients.to_vec(), messages.to_vec(), calls.to_vec()));
        self.write(move |tx| {
            let firing = firing.clone();
            Box::pin(async move {
                let tx = &mut tx.tx;
                let (step, recipients, messages, calls) = &*firing;
                let fired = sqlx::query(
                    "UPDATE escalation_steps SET fired_at = $1, recipients = $2 \
                     WHERE escalation_id = $3 AND ord = $4 AND fired_at IS NULL \
                     AND EXISTS (SELECT 1 FROM escalations WHERE id = $3 AND state = 'active')",
                )
                .bind(now.millis())
                .bind(to_json(recipients)?)
                .bind(&step.escalation_id)
                .bind(step.order)
                .execute(&mut *tx)
                .await?;
                if fired.rows_affected() == 0 {
                    return Ok(false);
                }
                outbox::enqueue_in(tx, messages, now).await?;
                outbound::enqueue_in(tx, calls, now).await?;
                let told: Vec<String> = recipients.iter().map(|r| format!("{} <{}>", r.name, r.email)).collect();
                let detail = if told.is_empty() {
                    format!("step {}: nobody to tell", step.order)
                } else {
                    format!("step {}: {}", step.order, told.join(", "))
                };
                log_in(tx, &step.escalation_id, now, "system", "step_fired", Some(&detail)).await?;
                Ok(true)
            })
        })
        .await
    }

    /// Acknowledged escalations whose reminder is due.
    pub async fn due_reminders(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<DueReminder>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, remind_at, remind_after_s, acknowledged_by, acknowledged_at FROM escalations \
             WHERE state = 'acknowledged' AND remind_at IS NOT NULL AND remind_at <= $1 ORDER BY remind_at LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut due = Vec::new();
        for row in &rows {
            let escalation_id: String = row.try_get("id")?;
            let told = sqlx::query(
                "SELECT DISTINCT recipient_name, recipient_email FROM outbox \
                 WHERE escalation_id = $1 AND purpose = 'step' ORDER BY recipient_email",
            )
            .bind(&escalation_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Recipient { name: r.try_get("recipient_name")?, email: r.try_get("recipient_email")?, phone: None })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            due.push(DueReminder {
                escalation_id,
                ticket_id: row.try_get("ticket_id")?,
                remind_at: Timestamp(row.try_get("remind_at")?),
                remind_after_s: row.try_get("remind_after_s")?,
                acknowledged_by: row.try_get("acknowledged_by")?,
                acknowledged_at: Timestamp(row.try_get("acknowledged_at")?),
                told,
            });
        }
        Ok(due)
    }

    /// Sends a reminder once: `false` when another worker did, or the escalation was resolved.
    pub async fn send_reminder(&self, due: &DueReminder, messages: &[NewMessage], now: Timestamp) -> StoreResult<bool> {
        let reminder = Arc::new((due.clone(), messages.to_vec()));
        self.write(move |tx| {
            let reminder = reminder.clone();
            Box::pin(async move {
                let tx = &mut tx.tx;
                let (due, messages) = &*reminder;
                let next = now.plus_seconds(due.remind_after_s.max(1));
                let claimed = sqlx::query(
                    "UPDATE escalations SET remind_at = $1 WHERE id = $2 AND state = 'acknowledged' AND remind_at = $3",
                )
                .bind(next.millis())
                .bind(&due.escalation_id)
                .bind(due.remind_at.millis())
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() == 0 {
                    return Ok(false);
                }
                outbox::enqueue_in(tx, messages, now).await?;
                let detail =
                    format!("acknowledged by {} and not resolved; {} told", due.acknowledged_by, messages.len());
                log_in(tx, &due.escalation_id, now, "system", "reminder", Some(&detail)).await?;
                Ok(true)
            })
        })
        .await
    }

    /// Sends `crew_id` to an escalation that is not resolved yet, with the crew's job message.
    pub async fn assign_crew_to_escalation(
        &self,
        id: &str,
        crew_id: &str,
        actor: &str,
        job: impl Fn(&Crew) -> Vec<NewMessage> + Send + Sync + 'static,
        now: Timestamp,
    ) -> StoreResult<(Escalation, Crew)> {
        let args = (id.to_string(), crew_id.to_string(), actor.to_string(), job);
        let crew = self
            .write_with(args, move |tx, (id, crew_id, actor, job)| {
                Box::pin(async move {
                    let state: Option<String> = sqlx::query_scalar("SELECT state FROM escalations WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    match state.as_deref() {
                        None => return Err(StoreError::NotFound("escalation".into())),
                        Some("resolved") => return Err(StoreError::Conflict("the escalation is resolved".into())),
                        Some(_) => {}
                    }
                    let crew = crews::dispatch_in(tx, crew_id, now).await?;
                    sqlx::query("UPDATE escalations SET crew_id = $1 WHERE id = $2")
                        .bind(crew_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    outbox::enqueue_in(tx, &job(&crew), now).await?;
                    log_in(tx, id, now, actor, "crew_assigned", Some(&crew.name)).await?;
                    Ok(crew)
                })
            })
            .await?;
        let escalation = self.escalation(id).await?.ok_or_else(|| StoreError::NotFound("escalation".into()))?;
        Ok((escalation, crew))
    }

    /// Acknowledges an active escalation: no further steps fire. Acknowledging twice is a conflict.
    pub async fn acknowledge_escalation(&self, id: &str, actor: &str, now: Timestamp) -> StoreResult<Escalation> {
        self.write_with((id.to_string(), actor.to_string()), move |tx, (id, actor)| {
            Box::pin(async move {
                if !acknowledge_in(tx, id, actor, now).await? {
                    return Err(Store::why_not(tx, id, "acknowledged").await);
                }
                Ok(())
            })
        })
        .await?;
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
        self.write_with((id.to_string(), actor.to_string(), note.to_string()), move |tx, (id, actor, note)| {
            Box::pin(async move {
                let changed = sqlx::query(
            "UPDATE escalations SET state = 'resolved', resolved_at = $1, resolution_note = $2, remind_at = NULL \
             WHERE id = $3 AND state <> 'resolved'",
        )
        .bind(now.millis())
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
                if changed.rows_affected() == 0 {
                    return Err(Store::why_not(tx, id, "resolved").await);
                }
                log_in(tx, id, now, actor, "resolved", Some(note)).await
            })
        })
        .await?;
        self.escalation(id).await?.ok_or_else(|| StoreError::NotFound("escalation".into()))
    }

    /// How the steps of escalations created at or after `since` fired (see [`StepFirings`]). Each
    /// step and its log lines are read in one statement, so workers still firing steps meanwhile
    /// cannot make the two disagree.
    pub async fn step_firings(&self, since: Timestamp) -> StoreResult<StepFirings> {
        let rows = sqlx::query(
            "SELECT s.escalation_id, s.ord, CAST(CASE WHEN s.fired_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS fired, \
             (SELECT COUNT(*) FROM escalation_log l WHERE l.escalation_id = s.escalation_id \
              AND l.kind = 'step_fired' AND l.detail LIKE 'step ' || s.ord || ':%') AS lines \
             FROM escalation_steps s JOIN escalations e ON e.id = s.escalation_id WHERE e.created_at >= $1",
        )
        .bind(since.millis())
        .fetch_all(&self.pool)
        .await?;
        let mut firings = StepFirings { steps: rows.len(), ..StepFirings::default() };
        let mut escalations = std::collections::HashSet::new();
        for row in &rows {
            let id: String = row.try_get("escalation_id")?;
            let order: i64 = row.try_get("ord")?;
            let fired = row.try_get::<i64, _>("fired")? == 1;
            let lines = usize::try_from(row.try_get::<i64, _>("lines")?).unwrap_or(0);
            firings.fired += usize::from(fired);
            if lines > 1 {
                firings.fired_twice.push((id.clone(), order, lines));
            }
            if fired != (lines > 0) {
                firings.mismatched.push((id.clone(), order));
            }
            escalations.insert(id);
        }
        firings.escalations = escalations.len();
        let outbox = sqlx::query(
            "SELECT COUNT(*) AS messages, COUNT(o.sent_at) AS sent FROM outbox o \
             JOIN escalations e ON e.id = o.escalation_id WHERE e.created_at >= $1",
        )
        .bind(since.millis())
        .fetch_one(&self.pool)
        .await?;
        firings.messages = usize::try_from(outbox.try_get::<i64, _>("messages")?).unwrap_or(0);
        firings.messages_sent = usize::try_from(outbox.try_get::<i64, _>("sent")?).unwrap_or(0);
        Ok(firings)
    }

    /// Not found, or already past that state.
    async fn why_not(tx: &mut WriteTx, id: &str, wanted: &str) -> StoreError {
        let state: Result<Option<String>, _> =
            sqlx::query_scalar("SELECT state FROM escalations WHERE id = $1").bind(id).fetch_optional(&mut *tx).await;
        match state {
            Ok(Some(state)) => StoreError::Conflict(format!("the escalation is {state} and cannot be {wanted}")),
            Ok(None) => StoreError::NotFound("escalation".into()),
            Err(e) => e.into(),
        }
    }
}
