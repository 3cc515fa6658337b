//! A call as the operator console sees it: who called, how it went and the path taken through the IVR.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::CallStatus;
use crate::app::AppState;
use crate::auth::http::OperatorPlus;
use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::error::responses::{NotFound, OperatorPlusErrors};
use crate::ivr::engine::{Answer, CallState};
use crate::store::CallRecord;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/calls/{id}", get(show))
}

#[derive(Serialize, utoipa::ToSchema)]
struct CallView {
    id: String,
    #[schema(value_type = Option<String>)]
    caller_number: Option<super::CallerId>,
    status: CallStatus,
    created_at: Timestamp,
    ended_at: Option<Timestamp>,
    /// The menus the caller went through and what they answered, in order.
    answers: Vec<Answer>,
}

#[utoipa::path(
    get,
    path = "/api/calls/{id}",
    operation_id = "show_call",
    tag = "calls",
    summary = "One call with the path its caller took through the IVR",
    params(("id" = String, Path, description = "The call's id (a queue item's or ticket's `call_id`)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The call", body = CallView),
        OperatorPlusErrors, NotFound,
    )
)]
async fn show(
    State(state): State<AppState>,
    _: OperatorPlus,
    Path(id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    let call = state.store.call(&id).await?.ok_or_else(|| ApiError::not_found(format!("call '{id}'")))?;
    let answers = ivr_answers(&call);
    Ok(Json(CallView {
        id: call.id,
        caller_number: call.caller_number,
        status: call.status,
        created_at: call.created_at,
        ended_at: call.ended_at,
        answers,
    }))
}

/// The menus the caller went through and what they answered, in order. A state written before
/// answers were kept reads as no answers, not as an error.
pub(crate) fn ivr_answers(call: &CallRecord) -> Vec<Answer> {
    serde_json::from_str::<CallState>(&call.state).unwrap_or_default().answers
}
