//! The queue endpoints of SPEC §5 and the operator's own state.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{OperatorStatus, QueueItem};
use crate::app::AppState;
use crate::auth::http::{OperatorOnly, OperatorPlus, SupervisorPlus};
use crate::auth::{Role, User};
use crate::calls::http::ivr_answers;
use crate::error::responses::{NotFound, OperatorOnlyErrors, OperatorPlusErrors, SupervisorPlusErrors};
use crate::error::{ApiError, ApiJson, ErrorBody, optional_text, within_length};
use crate::ivr::engine::Answer;
use crate::phone::PhoneNumber;
use crate::store::OperatorState;
use crate::tickets::{Ticket, TicketDetail, TicketKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/queue", get(list))
        .route("/api/queue/next", post(next))
        .route("/api/queue/abandoned", get(abandoned))
        .route("/api/queue/{id}/release", post(release))
        .route("/api/queue/{id}/complete", post(complete))
        .route("/api/operators/me", get(me).put(update_me))
        .route("/api/operators/me/heartbeat", post(heartbeat))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Stats {
    waiting: i64,
    oldest_wait_s: i64,
    estimated_wait_s: i64,
    operators_available: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct QueueView {
    items: Vec<QueueItem>,
    stats: Stats,
}

/// Renews what an operator holds: every queue call of theirs is a sign of life.
async fn alive(state: &AppState, user: &User) -> Result<(), ApiError> {
    if user.role == Role::Operator {
        let now = state.clock.now();
        state.store.touch_operator(user, now.plus_seconds(state.settings.operator_lease_s), now).await?;
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/queue",
    operation_id = "list_queue",
    tag = "queue",
    summary = "Waiting items in serving order, with the queue's figures",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The queue now", body = QueueView),
        OperatorPlusErrors,
    )
)]
async fn list(State(state): State<AppState>, OperatorPlus(user): OperatorPlus) -> Result<Json<QueueView>, ApiError> {
    alive(&state, &user).await?;
    let now = state.clock.now();
    let items = state.store.waiting_items().await?;
    let figures = state.store.queue_figures(now.plus_seconds(-state.settings.operator_lease_s)).await?;
    let wait = figures.wait_for(figures.waiting, None);
    let stats = Stats {
        waiting: figures.waiting,
        oldest_wait_s: figures.oldest_enqueued_at.map_or(0, |t| (now.millis() - t.millis()).max(0) / 1000),
        estimated_wait_s: wait.likely_s(),
        operators_available: figures.operators_available,
    };
    Ok(Json(QueueView { items, stats }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Abandoned {
    #[serde(flatten)]
    item: QueueItem,
    waited_s: i64,
}

/// Callers who hung up waiting in the last 24 hours, for supervisors to follow up.
#[utoipa::path(
    get,
    path = "/api/queue/abandoned",
    tag = "queue",
    summary = "Calls abandoned in the queue in the last 24 hours, with how long each waited",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Abandoned calls", body = [Abandoned]),
        SupervisorPlusErrors,
    )
)]
async fn abandoned(State(state): State<AppState>, _: SupervisorPlus) -> Result<Json<Vec<Abandoned>>, ApiError> {
    let since = state.clock.now().plus_seconds(-24 * 3600);
    let calls = state.store.abandoned_calls(since).await?;
    Ok(Json(calls.into_iter().map(|(item, waited_s)| Abandoned { item, waited_s }).collect()))
}

/// Everything the operator console shows for the item it has just taken, in one answer.
#[derive(Serialize, utoipa::ToSchema)]
struct Taken {
    item: QueueItem,
    /// The item's ticket with its audit trail, notes and the steps its lifecycle allows.
    ticket: Option<TicketDetail>,
    /// The caller's earlier tickets (the returning-caller window), newest first.
    history: Vec<Ticket>,
    /// The caller's path through the IVR, for an item that came from a call.
    answers: Option<Vec<Answer>>,
}

#[utoipa::path(
    post,
    path = "/api/queue/next",
    tag = "queue",
    summary = "Take the next item in serving order",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The item, its ticket in detail, the caller's earlier tickets and path through the IVR", body = Taken),
        (status = 204, description = "Nothing is waiting that this operator can take"),
        OperatorOnlyErrors,
        (status = 409, description = "The operator still holds an item", body = ErrorBody),
    )
)]
async fn next(State(state): State<AppState>, OperatorOnly(user): OperatorOnly) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let operator = state.store.operator(&user.id).await?;
    // A live call is put through to the operator's phone: without one, only other work is offered.
    let can_take_calls = operator.as_ref().is_some_and(|o| o.contact.is_some());
    let lease_until = now.plus_seconds(state.settings.operator_lease_s);
    let Some(item) = state.store.take_next(&user, can_take_calls, lease_until, now).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let ticket = match &item.ticket_id {
        Some(id) => state.store.ticket_detail(&TicketKey::Id(id.clone())).await?,
        None => None,
    };
    let answers = match &item.call_id {
        Some(id) => state.store.call(id).await?.map(|call| ivr_answers(&call)),
        None => None,
    };
    let history = match &item.caller_number {
        Some(number) => {
            let since = now.plus_seconds(-state.settings.returning_hours * 3600);
            let mut tickets = state.store.caller_history(number, since, 20).await?;
            tickets.retain(|t| Some(&t.id) != item.ticket_id.as_ref());
            tickets
        }
        None => Vec::new(),
    };
    tracing::info!(item = %item.id, kind = %item.kind, operator = %user.username, "queue item handed out");
    Ok(Json(Taken { item, ticket, history, answers }).into_response())
}

#[utoipa::path(
    post,
    path = "/api/queue/{id}/release",
    tag = "queue",
    summary = "Give a held item back; it keeps its place",
    params(("id" = String, Path, description = "The queue item's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The item, waiting again", body = QueueItem),
        OperatorOnlyErrors, NotFound,
        (status = 409, description = "The operator does not hold this item", body = ErrorBody),
    )
)]
async fn release(
    State(state): State<AppState>,
    OperatorOnly(user): OperatorOnly,
    Path(id): Path<String>,
) -> Result<Json<QueueItem>, ApiError> {
    require_item(&state, &id).await?;
    Ok(Json(state.store.release(&id, &user, state.clock.now()).await?))
}

async fn require_item(state: &AppState, id: &str) -> Result<QueueItem, ApiError> {
    state.store.queue_item(id).await?.ok_or_else(|| ApiError::not_found(format!("queue item '{id}'")))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Completion {
    #[schema(max_length = 100)]
    disposition: String,
    #[schema(max_length = 4000)]
    note: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/queue/{id}/complete",
    tag = "queue",
    summary = "Wrap up a held item with a disposition",
    params(("id" = String, Path, description = "The queue item's id")),
    request_body = Completion,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The item, done", body = QueueItem),
        OperatorOnlyErrors, NotFound,
        (status = 409, description = "The operator does not hold this item", body = ErrorBody),
        (status = 422, description = "Unknown disposition or a note too long", body = ErrorBody),
    )
)]
async fn complete(
    State(state): State<AppState>,
    OperatorOnly(user): OperatorOnly,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Completion>,
) -> Result<Json<QueueItem>, ApiError> {
    if !state.settings.dispositions.contains(&req.disposition) {
        return Err(ApiError::invalid(format!(
            "disposition '{}' is not one of: {}",
            req.disposition,
            state.settings.dispositions.join(", ")
        )));
    }
    let note = optional_text("note", req.note.as_deref(), 4000)?;
    require_item(&state, &id).await?;
    Ok(Json(state.store.complete(&id, &user, &req.disposition, note.as_deref(), state.clock.now()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    operator: Option<OperatorState>,
    item: Option<QueueItem>,
    dispositions: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/operators/me",
    operation_id = "operator_me",
    tag = "operators",
    summary = "The operator's own status, held item and the dispositions to choose from",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The operator's console state", body = Me),
        OperatorOnlyErrors,
    )
)]
async fn me(State(state): State<AppState>, OperatorOnly(user): OperatorOnly) -> Result<Json<Me>, ApiError> {
    alive(&state, &user).await?;
    Ok(Json(Me {
        operator: state.store.operator(&user.id).await?,
        item: state.store.held_item(&user.id).await?,
        dispositions: state.settings.dispositions.clone(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct UpdateMe {
    status: OperatorStatus,
    /// Why the operator paused (a break, training); required when pausing.
    #[schema(max_length = 200)]
    reason: Option<String>,
    /// Where live calls are put through: a phone number or a SIP address.
    #[schema(max_length = 200)]
    contact: Option<String>,
}

/// A phone number in E.164, or a `sip:` address with a user and a host.
fn parse_contact(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if let Some(address) = raw.strip_prefix("sip:") {
        let ok = address.split_once('@').is_some_and(|(user, host)| !user.is_empty() && !host.is_empty())
            && !address.contains(char::is_whitespace)
            && address.len() <= 200;
        return if ok {
            Ok(raw.to_string())
        } else {
            Err(ApiError::invalid(format!("contact '{raw}' is not a SIP address")))
        };
    }
    PhoneNumber::parse(raw).map(|p| p.to_string()).map_err(|e| ApiError::invalid(format!("contact: {e}")))
}

#[utoipa::path(
    put,
    path = "/api/operators/me",
    tag = "operators",
    summary = "Set the operator's status (available, paused with a reason, offline) and contact",
    request_body = UpdateMe,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The operator's state after the change", body = OperatorState),
        OperatorOnlyErrors,
        (status = 422, description = "A pause without a reason, wrap_up, or a bad contact", body = ErrorBody),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    OperatorOnly(user): OperatorOnly,
    ApiJson(req): ApiJson<UpdateMe>,
) -> Result<Json<OperatorState>, ApiError> {
    let reason = optional_text("reason", req.reason.as_deref(), 200)?;
    within_length("contact", req.contact.as_deref(), 200)?;
    match req.status {
        OperatorStatus::Paused if reason.is_none() => return Err(ApiError::invalid("pausing needs a reason")),
        OperatorStatus::WrapUp => {
            return Err(ApiError::invalid("wrap-up ends by completing the item, not by a status"));
        }
        _ => {}
    }
    let contact = req.contact.as_deref().filter(|c| !c.trim().is_empty()).map(parse_contact).transpose()?;
    let reason = if req.status == OperatorStatus::Paused { reason } else { None };
    let now = state.clock.now();
    let updated = state.store.set_operator(&user, req.status, reason.as_deref(), contact.as_deref(), now).await?;
    alive(&state, &user).await?;
    Ok(Json(updated))
}

#[utoipa::path(
    post,
    path = "/api/operators/me/heartbeat",
    tag = "operators",
    summary = "Renew the operator's lease on their console and held item",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Renewed"),
        OperatorOnlyErrors,
    )
)]
async fn heartbeat(State(state): State<AppState>, OperatorOnly(user): OperatorOnly) -> Result<StatusCode, ApiError> {
    alive(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
