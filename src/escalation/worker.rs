//! The escalation worker: fires due steps, sends reminders and delivers the outbox. Everything
//! it acts on is a row, so several workers (instances) may run: a step fires once because
//! firing is a conditional update, and a message is held by one worker's claim while it sends.

use std::sync::Arc;
use std::time::Duration;

use super::ack_link::AckLinks;
use super::mail::{self, Channel, NewMessage, OutboxMessage, Purpose};
use super::policy::{Policies, StepChannel, resolve_all};
use crate::clock::{Clock, Timestamp};
use crate::config::Settings;
use crate::metrics::Telemetry;
use crate::outbound::{DISPATCHER_SCRIPT, NewOutboundCall};
use crate::store::{DueReminder, DueStep, Store};
use crate::tickets::{Ticket, TicketKey};

/// How often the worker looks for due steps and messages.
const TICK: Duration = Duration::from_secs(1);
/// How long a claimed message is held; longer than an SMTP attempt may take.
const CLAIM_MS: i64 = 60_000;
const BATCH: i64 = 50;

/// Waits before the next attempt after `attempts` failures: 2 s, 4 s, 8 s ... up to 5 minutes.
pub fn retry_delay_s(attempts: i64) -> i64 {
    (2_i64 << attempts.clamp(0, 10)).min(300)
}

pub struct Worker {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub links: AckLinks,
    pub channels: Vec<Arc<dyn Channel>>,
    pub policies: Arc<Policies>,
    pub telemetry: Arc<Telemetry>,
}

impl Worker {
    /// Runs until the task is aborted; a failed round is logged and the next one tries again.
    pub fn start(self) -> tokio::task::JoinHandle<()> {
        crate::clock::every(TICK, "an escalation worker round", self, |worker| Box::pin(worker.round()))
    }

    /// One pass: fire what is due, remind, deliver. One item's failure is logged and leaves the
    /// others going; the item itself is tried again next round.
    pub async fn round(&self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let overdue = now.plus_seconds(-super::HAZARD_ESCALATES_WITHIN_S);
        for number in self.store.escalate_waiting_hazards(overdue, self.policies.clone(), now).await? {
            self.telemetry.hazard_escalated_by_timer();
            tracing::warn!(ticket = %number, "a hazard waited for its caller's answers too long: escalated with what is known");
        }
        for step in self.store.due_steps(now, BATCH).await? {
            if let Err(e) = self.fire(&step, now).await {
                tracing::error!(escalation = %step.escalation_id, step = step.order, error = %e, "firing a step failed");
            }
        }
        for due in self.store.due_reminders(now, BATCH).await? {
            if let Err(e) = self.remind(&due, now).await {
                tracing::error!(escalation = %due.escalation_id, error = %e, "sending a reminder failed");
            }
        }
        for message in self.store.claim_messages(now, CLAIM_MS, BATCH).await? {
            if let Err(e) = self.deliver(&message).await {
                tracing::error!(message = %message.id, error = %e, "recording a delivery failed");
            }
        }
        Ok(())
    }

    async fn ticket(&self, id: &str) -> anyhow::Result<Ticket> {
        self.store
            .ticket(&TicketKey::Id(id.to_string()))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the ticket {id} of an escalation is missing"))
    }

    async fn fire(&self, step: &DueStep, now: Timestamp) -> anyhow::Result<()> {
        let ticket = self.ticket(&step.ticket_id).await?;
        let recipients = resolve_all(&step.targets, now, &self.store.people_by_role().await?);
        let messages: Vec<NewMessage> = recipients
            .iter()
            .map(|r| {
                let token = self.links.token(&step.escalation_id, &r.email, now);
                let ack_url = format!("{}/ack/{token}", self.settings.public_url);
                let (subject, body) = mail::step_text(&self.settings, &ticket, step.order, &ack_url);
                NewMessage {
                    dedup_key: format!("step:{}:{}:{}", step.escalation_id, step.order, r.email.to_lowercase()),
                    escalation_id: Some(step.escalation_id.clone()),
                    step_ord: Some(step.order),
                    purpose: Purpose::Step,
                    channel: mail::EMAIL,
                    recipient: r.clone(),
                    subject,
                    body,
                }
            })
            .collect();
        let calls = self.calls(step, &recipients);
        if self.store.fire_step(step, &recipients, &messages, &calls, now).await? {
            self.telemetry.step_fired(recipients.len());
            if recipients.is_empty() {
                tracing::error!(escalation = %step.escalation_id, step = step.order, "an escalation step had nobody to tell");
            }
            tracing::info!(escalation = %step.escalation_id, step = step.order, told = recipients.len(), "escalation step fired");
        }
        Ok(())
    }

    /// The calls a step of the channel `call` places: one to each recipient with a phone. With
    /// HOTLINE_OUTBOUND off none are queued (nothing would place them); the e-mails still go.
    fn calls(&self, step: &DueStep, recipients: &[super::policy::Recipient]) -> Vec<NewOutboundCall> {
        if step.channel != StepChannel::Call {
            return Vec::new();
        }
        if self.settings.outbound.is_none() {
            tracing::warn!(escalation = %step.escalation_id, step = step.order, "a call step with HOTLINE_OUTBOUND off: e-mail only");
            return Vec::new();
        }
        recipients
            .iter()
            .filter_map(|r| {
                let phone = r.phone.clone()?;
                Some(NewOutboundCall {
                    dedup_key: format!("step:{}:{}:{phone}", step.escalation_id, step.order),
                    escalation_id: step.escalation_id.clone(),
                    step_ord: step.order,
                    recipient: r.clone(),
                    phone,
                    script: DISPATCHER_SCRIPT,
                })
            })
            .collect()
    }

    async fn remind(&self, due: &DueReminder, now: Timestamp) -> anyhow::Result<()> {
        let ticket = self.ticket(&due.ticket_id).await?;
        let (subject, body) = mail::reminder_text(&self.settings, &ticket, &due.acknowledged_by, due.acknowledged_at);
        let messages: Vec<NewMessage> = due
            .told
            .iter()
            .map(|r| NewMessage {
                dedup_key: format!(
                    "reminder:{}:{}:{}",
                    due.escalation_id,
                    due.remind_at.millis(),
                    r.email.to_lowercase()
                ),
                escalation_id: Some(due.escalation_id.clone()),
                step_ord: None,
                purpose: Purpose::Reminder,
                channel: mail::EMAIL,
                recipient: r.clone(),
                subject: subject.clone(),
                body: body.clone(),
            })
            .collect();
        if self.store.send_reminder(due, &messages, now).await? {
            self.telemetry.reminder_sent();
            tracing::info!(escalation = %due.escalation_id, told = messages.len(), "reminder: acknowledged, not resolved");
        }
        Ok(())
    }

    async fn deliver(&self, message: &OutboxMessage) -> anyhow::Result<()> {
        let Some(channel) = self.channels.iter().find(|c| c.name() == message.channel) else {
            self.telemetry.message_failed(&message.channel);
            let error = format!("no channel '{}' is configured", message.channel);
            let retry_at = self.clock.now().plus_seconds(retry_delay_s(message.attempts));
            return Ok(self.store.message_failed(message, &error, retry_at, self.clock.now()).await?);
        };
        match channel.deliver(message).await {
            Ok(()) => {
                self.telemetry.message_sent(&message.channel);
                self.store.message_sent(message, self.clock.now()).await?;
                tracing::info!(to = %message.recipient.email, subject = %message.subject, "message delivered");
            }
            Err(error) => {
                let retry_s = retry_delay_s(message.attempts);
                let now = self.clock.now();
                self.telemetry.message_failed(&message.channel);
                self.store.message_failed(message, &error, now.plus_seconds(retry_s), now).await?;
                tracing::warn!(to = %message.recipient.email, %error, retry_s, "message not delivered; will retry");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        let delays: Vec<i64> = (0..10).map(retry_delay_s).collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
