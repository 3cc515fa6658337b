//! `GET /api/metrics` and `GET /metrics`, and the layer that counts and times the webhooks.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE as CONTENT_TYPE_004;

use super::{Metrics, Telemetry, current, render_prometheus, watch};
use crate::app::AppState;
use crate::auth::http::SupervisorPlus;
use crate::error::ApiError;
use crate::error::responses::SupervisorPlusErrors;

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
        SupervisorPlusErrors,
    )
)]
pub(crate) async fn json(State(state): State<AppState>, _: SupervisorPlus) -> Result<Json<Metrics>, ApiError> {
    Ok(Json(current(&state.store, &state.settings, state.clock.now()).await?))
}

/// Counts and times every request of the routes it wraps (the telephony webhooks).
pub async fn track_webhooks(State(telemetry): State<Arc<Telemetry>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    telemetry.webhook(route.as_deref().unwrap_or("unmatched"), response.status().as_u16(), started.elapsed());
    response
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
pub(crate) async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let ready = state.store.is_ready().await;
    // Counters and readiness are served even when the database cannot give its figures: a
    // scrape that fails would hide them just when they matter.
    let now = state.clock.now();
    let figures = match current(&state.store, &state.settings, now).await {
        Ok(m) => watch(&state.store, &m, now).await.map(|w| (m, w)),
        Err(e) => Err(e),
    };
    let figures = figures.map_err(|e| tracing::error!(error = %e, "the figures for /metrics could not be read")).ok();
    let text = render_prometheus(figures.as_ref().map(|(m, w)| (m, w)), ready, &state.telemetry);
    ([(CONTENT_TYPE, CONTENT_TYPE_004)], text)
}
