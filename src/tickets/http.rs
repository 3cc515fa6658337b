//! The ticket endpoints of SPEC §5: list, get, create by hand, notes, lifecycle steps.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Category, Channel, NewTicket, Note, Priority, Status, Ticket, TicketDetail, TicketKey};
use crate::app::AppState;
use crate::auth::Role;
use crate::auth::http::OperatorPlus;
use crate::error::responses::{NotFound, OperatorPlusErrors};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody, optional_text, required_text, within_length};
use crate::phone::PhoneNumber;
use crate::store::{TicketFilter, TicketPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tickets", get(list).post(create))
        .route("/api/tickets/{key}", get(show))
        .route("/api/tickets/{key}/notes", post(add_note))
        .route("/api/tickets/{key}/transition", post(transition))
}

const MAX_DESCRIPTION: usize = 4000;
const MAX_ADDRESS: usize = 500;
const MAX_NOTE: usize = 4000;

fn ticket_key(raw: &str) -> Result<TicketKey, ApiError> {
    TicketKey::parse(raw).ok_or_else(|| ApiError::not_found(format!("ticket '{raw}'")))
}

/// Query parameters arrive as text so each bad one gets its own clear message; the document
/// shows the types they must parse as.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    #[param(value_type = Option<i64>)]
    settlement_id: Option<String>,
    /// Text to search for in the number, address, description and caller's number.
    q: Option<String>,
    /// Page size, 1 to 200; 50 unless given.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn query_param<T>(
    name: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => parse(value)
            .map(Some)
            .map_err(|e| ApiError::BadRequest { code: "bad_query", message: format!("{name}: {e}") }),
    }
}

fn number_param(value: &str) -> Result<i64, String> {
    value.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("'{value}' is not a positive whole number"))
}

#[utoipa::path(
    get,
    path = "/api/tickets",
    operation_id = "list_tickets",
    tag = "tickets",
    summary = "List tickets, newest first, a page at a time",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of tickets", body = TicketPage),
        OperatorPlusErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    _: OperatorPlus,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    let limit = query_param("limit", q.limit.as_deref(), |v| {
        v.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| format!("'{v}' is not from 1 to 200"))
    })?;
    let filter = TicketFilter {
        status: query_param("status", q.status.as_deref(), str::parse)?,
        category: query_param("category", q.category.as_deref(), str::parse)?,
        settlement_id: query_param("settlement_id", q.settlement_id.as_deref(), number_param)?,
        text: q.q.filter(|t| !t.trim().is_empty()),
        before_number: query_param("cursor", q.cursor.as_deref(), number_param)?,
        limit: limit.unwrap_or(50),
    };
    Ok(Json(state.store.list_tickets(&filter).await?))
}

#[utoipa::path(
    get,
    path = "/api/tickets/{key}",
    operation_id = "show_ticket",
    tag = "tickets",
    summary = "One ticket with its audit trail and notes",
    params(("key" = String, Path, description = "The ticket's id (a UUID) or its number")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket", body = TicketDetail),
        OperatorPlusErrors, NotFound,
    )
)]
async fn show(
    State(state): State<AppState>,
    _: OperatorPlus,
    Path(key): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    let detail = state.store.ticket_detail(&ticket_key(&key)?).await?;
    detail.map(Json).ok_or_else(|| ApiError::not_found(format!("ticket '{key}'")))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CreateTicket {
    category: Category,
    /// 1 (highest) to 4; the category's default unless given.
    #[schema(minimum = 1, maximum = 4)]
    priority: Option<i64>,
    /// Any common form; stored in E.164.
    #[schema(max_length = 50)]
    caller_number: Option<String>,
    settlement_id: Option<i64>,
    #[schema(max_length = 500)]
    address: Option<String>,
    #[schema(max_length = 4000)]
    description: String,
    /// Keep the ticket instead of putting it in the queue.
    #[serde(default)]
    assign_to_me: bool,
}

#[utoipa::path(
    post,
    path = "/api/tickets",
    tag = "tickets",
    summary = "Create a ticket by hand",
    request_body = CreateTicket,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket, queued or assigned to its author", body = Ticket),
        OperatorPlusErrors,
        (status = 422, description = "A field is missing or out of range", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    OperatorPlus(user): OperatorPlus,
    ApiJson(req): ApiJson<CreateTicket>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let priority = match req.priority {
        Some(p) => Priority::parse(p).map_err(ApiError::invalid)?,
        None => req.category.default_priority(),
    };
    within_length("caller_number", req.caller_number.as_deref(), 50)?;
    let caller_number = req
        .caller_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("caller_number: {e}")))?;
    let address = optional_text("address", req.address.as_deref(), MAX_ADDRESS)?;
    let new = NewTicket {
        category: req.category,
        priority,
        channel: Channel::Operator,
        // A ticket made by hand waits for whoever is free, unless its author keeps it.
        status: if req.assign_to_me { Status::InProgress } else { Status::Queued },
        caller_number,
        settlement_id: req.settlement_id,
        address,
        description: required_text("description", &req.description, MAX_DESCRIPTION)?,
        recording_url: None,
        recording_duration_s: None,
        call_id: None,
        assignee_id: req.assign_to_me.then(|| user.id.clone()),
        actor: user.username.clone(),
        incident_window_s: Some(state.settings.incident_window_s),
        escalation: Some(state.policies.clone()),
    };
    let now = state.clock.now();
    let ticket = if req.assign_to_me {
        state.store.create_ticket(&new, now).await?
    } else {
        state.store.create_queued_ticket(&new, &state.settings.queue_ordering, now).await?
    };
    tracing::info!(number = %ticket.number, category = %ticket.category, by = %user.username, "ticket created by hand");
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NoteRequest {
    #[schema(max_length = 4000)]
    text: String,
    /// The answer to the ticket's author: shown on the internet reception's status page.
    #[serde(default)]
    answer: bool,
}

#[utoipa::path(
    post,
    path = "/api/tickets/{key}/notes",
    tag = "tickets",
    summary = "Add a note to a ticket",
    params(("key" = String, Path, description = "The ticket's id (a UUID) or its number")),
    request_body = NoteRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The note as stored", body = Note),
        OperatorPlusErrors, NotFound,
        (status = 422, description = "The text is empty or too long", body = ErrorBody),
    )
)]
async fn add_note(
    State(state): State<AppState>,
    OperatorPlus(user): OperatorPlus,
    Path(key): Path<String>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let key = ticket_key(&key)?;
    let text = required_text("text", &req.text, MAX_NOTE)?;
    let note = state.store.add_marked_note(&key, &user.username, &text, req.answer, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TransitionRequest {
    to: Status,
    #[schema(max_length = 100)]
    disposition: Option<String>,
    #[schema(max_length = 4000)]
    note: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/tickets/{key}/transition",
    tag = "tickets",
    summary = "Move a ticket one step along its lifecycle",
    params(("key" = String, Path, description = "The ticket's id (a UUID) or its number")),
    request_body = TransitionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket after the step", body = Ticket),
        OperatorPlusErrors, NotFound,
        (status = 403, description = "The ticket is someone else's, or the role may not", body = ErrorBody),
        (status = 409, description = "The lifecycle forbids the step, or the ticket changed meanwhile", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid", body = ErrorBody),
    )
)]
async fn transition(
    State(state): State<AppState>,
    OperatorPlus(user): OperatorPlus,
    Path(key): Path<String>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> Result<Json<Ticket>, ApiError> {
    let key = ticket_key(&key)?;
    let current = state.store.ticket(&key).await?.ok_or_else(|| ApiError::not_found("ticket"))?;
    // An operator works their own tickets; taking over a colleague's is a supervisor's call.
    if let Some(assignee) = current.assignee.as_deref().filter(|a| *a != user.username) {
        if user.role == Role::Operator {
            return Err(ApiError::Forbidden(format!("ticket {} is being handled by {assignee}", current.number)));
        }
    }
    let disposition = optional_text("disposition", req.disposition.as_deref(), 100)?;
    let note = optional_text("note", req.note.as_deref(), MAX_NOTE)?;
    let ticket = state
        .store
        .transition_ticket(&key, req.to, &user.username, disposition.as_deref(), note.as_deref(), state.clock.now())
        .await?;
    Ok(Json(ticket))
}
