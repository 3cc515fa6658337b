//! The dispatcher's escalation endpoints (SPEC §5): list, look into, acknowledge, assign a crew, resolve.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::mail;
use super::{Escalation, EscalationDetail, EscalationState};
use crate::app::AppState;
use crate::auth::http::{DispatcherOnly, DispatcherPlus};
use crate::crews::Crew;
use crate::error::responses::{DispatcherOnlyErrors, DispatcherPlusErrors, NotFound};
use crate::error::{ApiError, ApiJson, ApiQuery, required_text, within_length};
use crate::tickets::{Ticket, TicketKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/escalations", get(list))
        .route("/api/escalations/{id}", get(detail))
        .route("/api/escalations/{id}/ack", post(acknowledge))
        .route("/api/escalations/{id}/assign", post(assign))
        .route("/api/escalations/{id}/resolve", post(resolve))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct ListQuery {
    state: Option<EscalationState>,
}

#[utoipa::path(
    get,
    path = "/api/escalations",
    operation_id = "list_escalations",
    tag = "escalations",
    summary = "Escalations with their steps, newest first",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Escalations", body = Vec<Escalation>),
        DispatcherPlusErrors,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: DispatcherPlus,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Escalation>>, ApiError> {
    Ok(Json(state.store.escalations(q.state).await?))
}

#[utoipa::path(
    post,
    path = "/api/escalations/{id}/ack",
    operation_id = "acknowledge_escalation",
    tag = "escalations",
    summary = "Acknowledge: no further steps fire",
    params(("id" = String, Path, description = "Escalation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = Escalation),
        DispatcherOnlyErrors, NotFound,
        (status = 409, description = "Already acknowledged or resolved", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    DispatcherOnly(user): DispatcherOnly,
    Path(id): Path<String>,
) -> Result<Json<Escalation>, ApiError> {
    let escalation = state.store.acknowledge_escalation(&id, &user.username, state.clock.now()).await?;
    tracing::info!(escalation = %id, by = %user.username, "escalation acknowledged");
    Ok(Json(escalation))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Resolution {
    #[schema(max_length = 4000)]
    note: String,
}

#[utoipa::path(
    post,
    path = "/api/escalations/{id}/resolve",
    operation_id = "resolve_escalation",
    tag = "escalations",
    summary = "Resolve with a note",
    params(("id" = String, Path, description = "Escalation id")),
    request_body = Resolution,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resolved", body = Escalation),
        DispatcherOnlyErrors, NotFound,
        (status = 409, description = "Already resolved", body = crate::error::ErrorBody),
        (status = 422, description = "Empty note", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    DispatcherOnly(user): DispatcherOnly,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Resolution>,
) -> Result<Json<Escalation>, ApiError> {
    let note = required_text("note", &req.note, 4000)?;
    Ok(Json(state.store.resolve_escalation(&id, &user.username, &note, state.clock.now()).await?))
}

#[utoipa::path(
    get,
    path = "/api/escalations/{id}",
    operation_id = "show_escalation",
    tag = "escalations",
    summary = "One escalation with its steps, notifications and audit trail",
    params(("id" = String, Path, description = "Escalation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The escalation", body = EscalationDetail),
        DispatcherPlusErrors, NotFound,
    )
)]
pub(crate) async fn detail(
    State(state): State<AppState>,
    _: DispatcherPlus,
    Path(id): Path<String>,
) -> Result<Json<EscalationDetail>, ApiError> {
    let escalation = state.store.escalation(&id).await?.ok_or_else(|| ApiError::not_found("escalation"))?;
    let log = state.store.escalation_log(&id).await?;
    Ok(Json(EscalationDetail { escalation, log }))
}

/// Which crew to send.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Assignment {
    #[schema(max_length = 64)]
    pub(crate) crew_id: String,
}

#[utoipa::path(
    post,
    path = "/api/escalations/{id}/assign",
    operation_id = "assign_crew_to_escalation",
    tag = "escalations",
    summary = "Send a crew: it is e-mailed the job, and an available crew is now en route",
    params(("id" = String, Path, description = "Escalation id")),
    request_body = Assignment,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Assigned", body = Escalation),
        DispatcherOnlyErrors, NotFound,
        (status = 409, description = "The escalation is resolved or the crew is off duty", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn assign(
    State(state): State<AppState>,
    DispatcherOnly(user): DispatcherOnly,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Assignment>,
) -> Result<Json<Escalation>, ApiError> {
    within_length("crew_id", Some(&req.crew_id), 64)?;
    let escalation = state.store.escalation(&id).await?.ok_or_else(|| ApiError::not_found("escalation"))?;
    let ticket: Ticket = state
        .store
        .ticket(&TicketKey::Id(escalation.ticket_id.clone()))
        .await?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let (what, facts) = mail::ticket_job(&state.settings, &ticket);
    let (settings, escalation_id) = (state.settings.clone(), id.clone());
    let job = move |crew: &Crew| mail::crew_job(&settings, crew, Some(&escalation_id), &what, &facts);
    let (escalation, crew) =
        state.store.assign_crew_to_escalation(&id, &req.crew_id, &user.username, job, state.clock.now()).await?;
    tracing::info!(escalation = %id, crew = %crew.name, by = %user.username, "crew assigned");
    Ok(Json(escalation))
}
