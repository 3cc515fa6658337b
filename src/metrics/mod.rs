//! Supervisor metrics: waiting now, oldest wait, service level, average speed of answer,
//! abandon rate, handle time, callbacks pending, IVR containment, operators by status. Served as
//! JSON at `GET /api/metrics` and in Prometheus text format at `GET /metrics`, which adds the
//! regulator's service levels, what the alerts watch (ops/prometheus/alerts.yml) and this
//! process' counters: webhooks by route with their latency, escalation steps, outbox deliveries.
//! The endpoints and the webhook timing layer are in [`http`].

pub mod http;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::config::Settings;
use crate::escalation::EscalationState;
use crate::escalation::mail::EMAIL;
use crate::store::{Store, StoreError};
use crate::telephony::Dialect;

/// A call answered within this many seconds counts toward the service level.
pub const SERVICE_LEVEL_S: i64 = 20;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Metrics {
    /// Start of the period: midnight today in HOTLINE_TIMEZONE.
    pub since: Timestamp,
    pub waiting: i64,
    pub oldest_wait_s: i64,
    pub answered: i64,
    /// Share of answered live calls taken within 20 s; `null` before the first answer.
    pub service_level: Option<f64>,
    pub average_speed_of_answer_s: Option<f64>,
    pub abandoned: i64,
    pub abandon_rate: Option<f64>,
    pub average_handle_s: Option<f64>,
    pub callbacks_pending: i64,
    pub calls_ended: i64,
    /// Share of ended calls that finished in the IVR, without an operator.
    pub ivr_containment: Option<f64>,
    pub operators: Vec<OperatorCount>,
    /// Emergencies nobody has acknowledged yet.
    pub escalations_active: i64,
    /// Messages the outbox still owes (an SMTP outage shows here first).
    pub messages_undelivered: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct OperatorCount {
    pub status: String,
    pub count: i64,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Today's figures as of `now`; "today" begins at midnight in the service's time zone.
pub async fn current(store: &Store, settings: &Settings, now: Timestamp) -> Result<Metrics, StoreError> {
    let since: Timestamp = now
        .to_jiff()
        .to_zoned(settings.timezone.clone())
        .start_of_day()
        .map(|midnight| midnight.timestamp().into())
        .unwrap_or(now);
    let alive_since = now.plus_seconds(-settings.operator_lease_s);
    let c = store.metric_counts(since, SERVICE_LEVEL_S * 1000, alive_since).await?;
    Ok(Metrics {
        since,
        waiting: c.waiting,
        oldest_wait_s: c.oldest_enqueued_at.map_or(0, |t| (now.millis() - t.millis()).max(0) / 1000),
        answered: c.answered,
        service_level: ratio(c.answered_within_sl, c.answered),
        average_speed_of_answer_s: ratio(c.answer_wait_ms, c.answered).map(|ms| ms / 1000.0),
        abandoned: c.abandoned,
        abandon_rate: ratio(c.abandoned, c.abandoned + c.answered),
        average_handle_s: ratio(c.handle_ms, c.handled).map(|ms| ms / 1000.0),
        callbacks_pending: c.callbacks_pending,
        calls_ended: c.calls_ended,
        ivr_containment: ratio(c.calls_contained, c.calls_ended),
        operators: c.operators.into_iter().map(|(status, count)| OperatorCount { status, count }).collect(),
        escalations_active: store.count_escalations(EscalationState::Active).await?,
        messages_undelivered: store.undelivered_messages().await?,
    })
}

/// Live calls answered within this many seconds count toward the regulator's service level
/// (target: at least [`TARGET_ANSWERED_30S`] of them).
pub const SERVICE_LEVEL_LONG_S: i64 = 30;
/// A hazard call answered within this many seconds counts toward the emergency service level
/// (target: at least [`TARGET_HAZARDS_20S`] of them).
pub const HAZARD_SERVICE_LEVEL_S: i64 = 20;
/// The targets the alerts (ops/prometheus/alerts.yml) and the dashboard hold the figures to.
pub const TARGET_ANSWERED_30S: f64 = 0.75;
pub const TARGET_ABANDON_RATE_MAX: f64 = 0.10;
pub const TARGET_HAZARDS_20S: f64 = 0.98;

/// Webhook latency buckets, in seconds: a step takes milliseconds; providers give up after some
/// seconds (Twilio 15 s), so the top buckets show a server that is about to lose calls.
const WEBHOOK_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    dialect: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    dialect: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// What this process counts as it works: webhooks by route, dialect and status with their
/// latency, escalation steps, reminders and outbox deliveries. Counters start at zero with the
/// process (Prometheus' `rate()` and `increase()` handle the restarts); with several instances,
/// sum them. The figures read from the database at each scrape are the same on every instance.
#[derive(Debug)]
pub struct Telemetry {
    webhooks: Family<WebhookLabels, Counter>,
    webhook_seconds: Family<RouteLabels, Histogram>,
    steps_fired: Counter,
    steps_unaddressed: Counter,
    reminders: Counter,
    hazards_escalated_by_timer: Counter,
    messages_sent: Family<MessageLabels, Counter>,
    delivery_failures: Family<MessageLabels, Counter>,
}

impl Default for Telemetry {
    fn default() -> Self {
        let telemetry = Self {
            webhooks: Family::default(),
            webhook_seconds: Family::new_with_constructor(|| Histogram::new(WEBHOOK_BUCKETS)),
            steps_fired: Counter::default(),
            steps_unaddressed: Counter::default(),
            reminders: Counter::default(),
            hazards_escalated_by_timer: Counter::default(),
            messages_sent: Family::default(),
            delivery_failures: Family::default(),
        };
        // The channel there is shows from the start, at zero: a graph or an alert on it then
        // has a series to read before the first message.
        let email = MessageLabels { channel: EMAIL.to_string() };
        let _ = telemetry.messages_sent.get_or_create(&email);
        let _ = telemetry.delivery_failures.get_or_create(&email);
        telemetry
    }
}

impl Telemetry {
    /// One webhook answered: `route` is the route's template (`/telephony/twilio/step/{seq}`),
    /// never the raw path, so the number of series stays fixed.
    pub fn webhook(&self, route: &str, status: u16, took: Duration) {
        let dialect = if route.starts_with("/telephony/jambonz/") {
            Dialect::Jambonz.as_str()
        } else if route.starts_with("/telephony/twilio/") {
            Dialect::Twilio.as_str()
        } else {
            "none"
        };
        self.webhooks.get_or_create(&WebhookLabels { dialect, route: route.to_string(), status }).inc();
        self.webhook_seconds
            .get_or_create(&RouteLabels { dialect, route: route.to_string() })
            .observe(took.as_secs_f64());
    }

    /// An escalation step fired (by this instance) and told `told` people.
    pub fn step_fired(&self, told: usize) {
        self.steps_fired.inc();
        if told == 0 {
            self.steps_unaddressed.inc();
        }
    }

    pub fn reminder_sent(&self) {
        self.reminders.inc();
    }

    /// A hazard escalated by the worker's timer rather than by its call.
    pub fn hazard_escalated_by_timer(&self) {
        self.hazards_escalated_by_timer.inc();
    }

    pub fn message_sent(&self, channel: &str) {
        self.messages_sent.get_or_create(&MessageLabels { channel: channel.to_string() }).inc();
    }

    /// A delivery attempt failed; the outbox tries again later.
    pub fn message_failed(&self, channel: &str) {
        self.delivery_failures.get_or_create(&MessageLabels { channel: channel.to_string() }).inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "webhook_requests",
            "Telephony webhooks answered by this instance, by dialect, route template and HTTP status",
            self.webhooks.clone(),
        );
        registry.register(
            "webhook_duration_seconds",
            "Time from a telephony webhook's arrival to its answer on this instance, by dialect and route template",
            self.webhook_seconds.clone(),
        );
        registry.register(
            "escalation_steps_fired",
            "Escalation steps this instance fired (each step fires once across all instances)",
            self.steps_fired.clone(),
        );
        registry.register(
            "escalation_steps_unaddressed",
            "Escalation steps this instance fired that had nobody to tell",
            self.steps_unaddressed.clone(),
        );
        registry.register(
            "escalation_reminders",
            "Reminders this instance sent for escalations acknowledged and not resolved",
            self.reminders.clone(),
        );
        registry.register(
            "hazards_escalated_by_timer",
            "Hazards this instance escalated because the caller's answers took too long",
            self.hazards_escalated_by_timer.clone(),
        );
        registry.register(
            "outbox_messages_sent",
            "Messages this instance delivered from the outbox, by channel",
            self.messages_sent.clone(),
        );
        registry.register(
            "outbox_delivery_failures",
            "Failed delivery attempts of this instance (each is retried), by channel",
            self.delivery_failures.clone(),
        );
    }
}

/// The service-level figures and what the alerts watch, beside [`Metrics`].
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    /// Share of answered live calls taken within 30 s today.
    pub answered_within_30s: Option<f64>,
    /// Hazard live calls today that were answered or abandoned.
    pub hazard_calls: i64,
    /// Share of those answered within 20 s.
    pub hazards_within_20s: Option<f64>,
    pub oldest_unacknowledged_s: i64,
    pub escalations_exhausted: i64,
    pub oldest_undelivered_s: i64,
    /// Calls the hotline placed today (SPEC §8), how many of them were answered, and how many
    /// of those acknowledged what they were about.
    pub calls_placed: i64,
    pub calls_placed_answered: i64,
    pub calls_placed_acknowledged: i64,
}

/// The figures of [`Watch`] beside `m`, read as of `now`.
pub async fn watch(store: &Store, m: &Metrics, now: Timestamp) -> Result<Watch, StoreError> {
    let age = |t: Option<Timestamp>| t.map_or(0, |t| (now.millis() - t.millis()).max(0) / 1000);
    let c = store.watch_counts(m.since, SERVICE_LEVEL_LONG_S * 1000, HAZARD_SERVICE_LEVEL_S * 1000).await?;
    let (placed, answered, acknowledged) = store.outbound_counts(m.since).await?;
    Ok(Watch {
        calls_placed: placed,
        calls_placed_answered: answered,
        calls_placed_acknowledged: acknowledged,
        answered_within_30s: ratio(c.answered_within_long_sl, m.answered),
        hazard_calls: c.hazard_calls,
        hazards_within_20s: ratio(c.hazard_answered_within_sl, c.hazard_calls),
        oldest_unacknowledged_s: age(c.oldest_unacknowledged_at),
        escalations_exhausted: c.escalations_exhausted,
        oldest_undelivered_s: age(c.oldest_undelivered_at),
    })
}

/// Registers a gauge with `value`, or nothing when the value is undefined yet (a rate before
/// anything to divide by is left out, not zero).
fn gauge(registry: &mut Registry, name: &str, help: &str, value: Option<f64>) {
    if let Some(v) = value {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        registry.register(name, help, g);
    }
}

fn count(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g: Gauge = Gauge::default();
    g.set(value);
    registry.register(name, help, g);
}

/// The figures in the Prometheus text format: the database's figures (when they could be read),
/// readiness, and this process' counters and histograms.
pub fn render_prometheus(figures: Option<(&Metrics, &Watch)>, ready: bool, telemetry: &Telemetry) -> String {
    let mut r = Registry::with_prefix("hotline");
    count(
        &mut r,
        "ready",
        "1 when the database answers and every migration is applied (as /readyz), else 0",
        i64::from(ready),
    );
    if let Some((m, w)) = figures {
        count(&mut r, "queue_waiting", "Items waiting in the operator queue", m.waiting);
        count(&mut r, "queue_oldest_wait_seconds", "How long the oldest waiting item has waited", m.oldest_wait_s);
        count(&mut r, "calls_answered_today", "Live calls taken by an operator since midnight", m.answered);
        gauge(&mut r, "service_level_ratio", "Share of live calls answered within 20 seconds today", m.service_level);
        gauge(
            &mut r,
            "service_level_30s_ratio",
            &format!("Share of live calls answered within 30 seconds today (target at least {TARGET_ANSWERED_30S})"),
            w.answered_within_30s,
        );
        gauge(
            &mut r,
            "average_speed_of_answer_seconds",
            "Average wait of answered live calls today",
            m.average_speed_of_answer_s,
        );
        count(&mut r, "calls_abandoned_today", "Callers who hung up while waiting, since midnight", m.abandoned);
        gauge(
            &mut r,
            "abandon_rate_ratio",
            &format!("Abandoned share of queued live calls today (target at most {TARGET_ABANDON_RATE_MAX})"),
            m.abandon_rate,
        );
        count(&mut r, "hazard_calls_today", "Hazard live calls answered or abandoned since midnight", w.hazard_calls);
        gauge(
            &mut r,
            "hazard_service_level_ratio",
            &format!(
                "Share of hazard live calls answered within 20 seconds today, abandoned ones counting against \
                 (target at least {TARGET_HAZARDS_20S})"
            ),
            w.hazards_within_20s,
        );
        gauge(&mut r, "average_handle_seconds", "Average time from hand-out to wrap-up today", m.average_handle_s);
        count(&mut r, "callbacks_pending", "Callers waiting to be rung back", m.callbacks_pending);
        gauge(&mut r, "ivr_containment_ratio", "Share of calls today that ended in the IVR", m.ivr_containment);
        count(&mut r, "escalations_active", "Escalations not acknowledged yet", m.escalations_active);
        count(
            &mut r,
            "escalations_exhausted",
            "Escalations not acknowledged whose every step has fired: the policy has told everyone it names",
            w.escalations_exhausted,
        );
        count(
            &mut r,
            "escalation_oldest_unacknowledged_seconds",
            "Age of the oldest escalation nobody has acknowledged (0 when there is none)",
            w.oldest_unacknowledged_s,
        );
        count(&mut r, "messages_undelivered", "Messages waiting in the outbox", m.messages_undelivered);
        count(
            &mut r,
            "outbox_oldest_undelivered_seconds",
            "Age of the oldest message the outbox still owes (0 when it owes none)",
            w.oldest_undelivered_s,
        );
        count(&mut r, "outbound_calls_placed_today", "Calls the hotline placed since midnight", w.calls_placed);
        count(
            &mut r,
            "outbound_calls_answered_today",
            "Calls the hotline placed since midnight that were answered",
            w.calls_placed_answered,
        );
        count(
            &mut r,
            "outbound_calls_acknowledged_today",
            "Calls the hotline placed since midnight whose called party pressed 1 to accept",
            w.calls_placed_acknowledged,
        );
        let operators = Family::<StatusLabels, Gauge>::default();
        for op in &m.operators {
            operators.get_or_create(&StatusLabels { status: op.status.clone() }).set(op.count);
        }
        r.register("operators", "Operators with a live console, by status", operators);
    }
    telemetry.register(&mut r);
    let mut out = String::new();
    encode(&mut out, &r).expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alert rules hold the figures to the targets the code and the dashboard name.
    #[test]
    fn the_alert_rules_use_the_service_level_targets() {
        let rules = include_str!("../../ops/prometheus/alerts.yml");
        for (figure, op, target) in [
            ("hotline_service_level_30s_ratio", "<", TARGET_ANSWERED_30S),
            ("hotline_abandon_rate_ratio", ">", TARGET_ABANDON_RATE_MAX),
            ("hotline_hazard_service_level_ratio", "<", TARGET_HAZARDS_20S),
        ] {
            let expr = format!("max({figure}) {op} {target:.2}");
            assert!(rules.contains(&expr), "ops/prometheus/alerts.yml has no `{expr}`");
        }
    }
}
