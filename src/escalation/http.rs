//! The dispatcher's escalation endpoints (SPEC §5): list, acknowledge, resolve.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Escalation, EscalationState};
use crate::app::AppState;
use crate::auth::{Role, User};
use crate::error::{ApiError, ApiJson, ApiQuery, required_text};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/escalations", get(list))
        .route("/api/escalations/{id}/ack", post(acknowledge))
        .route("/api/escalations/{id}/resolve", post(resolve))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct ListQuery {
    state: Option<EscalationState>,
}

#[utoipa::path(
    get,
    path = "/api/escalations",
    tag = "escalations",
    summary = "Escalations with their steps, newest first",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Escalations", body = Vec<Escalation>),
        (status = 401, description = "No valid bearer token", body = crate::error::ErrorBody),
        (status = 403, description = "Dispatchers, supervisors and admins", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: User,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Escalation>>, ApiError> {
    user.require_at_least(Role::Dispatcher)?;
    Ok(Json(state.store.escalations(q.state).await?))
}

#[utoipa::path(
    post,
    path = "/api/escalations/{id}/ack",
    tag = "escalations",
    summary = "Acknowledge: no further steps fire",
    params(("id" = String, Path, description = "Escalation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = Escalation),
        (status = 401, description = "No valid bearer token", body = crate::error::ErrorBody),
        (status = 403, description = "Dispatchers only", body = crate::error::ErrorBody),
        (status = 404, description = "No such escalation", body = crate::error::ErrorBody),
        (status = 409, description = "Already acknowledged or resolved", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<Escalation>, ApiError> {
    user.require_one_of(&[Role::Dispatcher])?;
    let escalation = state.store.acknowledge_escalation(&id, &user.username, state.clock.now()).await?;
    tracing::info!(escalation = %id, by = %user.username, "escalation acknowledged");
    Ok(Json(escalation))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Resolution {
    note: String,
}

#[utoipa::path(
    post,
    path = "/api/escalations/{id}/resolve",
    tag = "escalations",
    summary = "Resolve with a note",
    params(("id" = String, Path, description = "Escalation id")),
    request_body = Resolution,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resolved", body = Escalation),
        (status = 401, description = "No valid bearer token", body = crate::error::ErrorBody),
        (status = 403, description = "Dispatchers only", body = crate::error::ErrorBody),
        (status = 404, description = "No such escalation", body = crate::error::ErrorBody),
        (status = 409, description = "Already resolved", body = crate::error::ErrorBody),
        (status = 422, description = "Empty note", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Resolution>,
) -> Result<Json<Escalation>, ApiError> {
    user.require_one_of(&[Role::Dispatcher])?;
    let note = required_text("note", &req.note, 4000)?;
    Ok(Json(state.store.resolve_escalation(&id, &user.username, &note, state.clock.now()).await?))
}
