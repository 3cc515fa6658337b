//! Supervisor metrics: waiting now, oldest wait, service level, average speed of answer,
//! abandon rate, handle time, callbacks pending, IVR containment, operators by status. Served as
//! JSON at `GET /api/metrics` and in Prometheus text format at `GET /metrics`.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::SupervisorPlus;
use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::escalation::EscalationState;

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

pub async fn current(state: &AppState) -> Result<Metrics, ApiError> {
    let now = state.clock.now();
    let since: Timestamp = now
        .to_jiff()
        .to_zoned(state.settings.timezone.clone())
        .start_of_day()
        .map(|midnight| midnight.timestamp().into())
        .unwrap_or(now);
    let alive_since = now.plus_seconds(-state.settings.operator_lease_s);
    let c = state.store.metric_counts(since, SERVICE_LEVEL_S * 1000, alive_since).await?;
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
        escalations_active: state.store.count_escalations(EscalationState::Active).await?,
        messages_undelivered: state.store.undelivered_messages().await?,
    })
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/metrics", get(json)).route("/metrics", get(prometheus))
}

#[utoipa::path(
    get,
    path = "/api/metrics",
    tag = "metrics",
    summary = "Today's supervisor figures as JSON",
    description = "Waiting now, oldest wait, answered, service level (share answered within 20 s), \
                   average speed of answer, abandoned and abandon rate, average handle time, callbacks \
                   pending, calls ended, IVR containment, and operators by status. Rates are null until \
                   there is something to divide by.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The figures since midnight in the service's time zone", body = Metrics),
        (status = 401, description = "No valid bearer token", body = crate::error::ErrorBody),
        (status = 403, description = "Supervisors and admins", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn json(State(state): State<AppState>, _: SupervisorPlus) -> Result<Json<Metrics>, ApiError> {
    Ok(Json(current(&state).await?))
}

/// The same figures for Prometheus; rates that are undefined yet are left out, not zero.
pub fn render_prometheus(m: &Metrics) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: Option<f64>| {
        if let Some(v) = value {
            let _ = writeln!(out, "# HELP hotline_{name} {help}\n# TYPE hotline_{name} gauge\nhotline_{name} {v}");
        }
    };
    gauge("queue_waiting", "Items waiting in the operator queue.", Some(m.waiting as f64));
    gauge("queue_oldest_wait_seconds", "How long the oldest waiting item has waited.", Some(m.oldest_wait_s as f64));
    gauge("calls_answered_today", "Live calls taken by an operator since midnight.", Some(m.answered as f64));
    gauge("service_level_ratio", "Share of live calls answered within 20 seconds today.", m.service_level);
    gauge("average_speed_of_answer_seconds", "Average wait of answered live calls today.", m.average_speed_of_answer_s);
    gauge("calls_abandoned_today", "Callers who hung up while waiting, since midnight.", Some(m.abandoned as f64));
    gauge("abandon_rate_ratio", "Abandoned share of queued live calls today.", m.abandon_rate);
    gauge("average_handle_seconds", "Average time from hand-out to wrap-up today.", m.average_handle_s);
    gauge("callbacks_pending", "Callers waiting to be rung back.", Some(m.callbacks_pending as f64));
    gauge("ivr_containment_ratio", "Share of calls today that ended in the IVR.", m.ivr_containment);
    gauge("escalations_active", "Escalations not acknowledged yet.", Some(m.escalations_active as f64));
    gauge("messages_undelivered", "Messages waiting in the outbox.", Some(m.messages_undelivered as f64));
    let _ = writeln!(
        out,
        "# HELP hotline_operators Operators with a live console, by status.\n# TYPE hotline_operators gauge"
    );
    for op in &m.operators {
        let _ = writeln!(out, "hotline_operators{{status=\"{}\"}} {}", op.status, op.count);
    }
    out
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    summary = "The same figures in the Prometheus text format",
    responses((
        status = 200,
        description = "Prometheus exposition format 0.0.4",
        body = String,
        content_type = "text/plain; version=0.0.4"
    ))
)]
pub(crate) async fn prometheus(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let metrics = current(&state).await?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render_prometheus(&metrics)))
}
