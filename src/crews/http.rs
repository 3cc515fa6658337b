//! The crews board API (SPEC §5): list, add, and change a crew's details or status.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Crew, CrewChange, CrewStatus};
use crate::app::AppState;
use crate::auth::http::DispatcherPlus;
use crate::error::responses::{DispatcherPlusErrors, NotFound};
use crate::error::{ApiError, ApiJson, ErrorBody, optional_text, present, required_text};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/crews", get(list).post(create)).route("/api/crews/{id}", patch(update))
}

#[utoipa::path(
    get,
    path = "/api/crews",
    operation_id = "list_crews",
    tag = "crews",
    summary = "Field crews and their status",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Crews by name", body = Vec<Crew>),
        DispatcherPlusErrors,
    )
)]
pub(crate) async fn list(State(state): State<AppState>, _: DispatcherPlus) -> Result<Json<Vec<Crew>>, ApiError> {
    Ok(Json(state.store.crews().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCrew {
    #[schema(max_length = 200)]
    name: String,
    #[schema(max_length = 50)]
    phone: Option<String>,
    /// Where its jobs are e-mailed.
    #[schema(max_length = 254)]
    email: Option<String>,
    /// Where it starts; `available` when absent.
    status: Option<CrewStatus>,
}

fn checked_email(email: Option<&str>) -> Result<Option<String>, ApiError> {
    let email = optional_text("email", email, 254)?;
    if email.as_deref().is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(ApiError::invalid("email is not an e-mail address"));
    }
    Ok(email)
}

#[utoipa::path(
    post,
    path = "/api/crews",
    operation_id = "create_crew",
    tag = "crews",
    summary = "Add a crew (available unless it says otherwise)",
    request_body = NewCrew,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new crew", body = Crew),
        DispatcherPlusErrors,
        (status = 422, description = "An empty name or a bad address", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    DispatcherPlus(user): DispatcherPlus,
    ApiJson(req): ApiJson<NewCrew>,
) -> Result<(StatusCode, Json<Crew>), ApiError> {
    let name = required_text("name", &req.name, 200)?;
    let phone = optional_text("phone", req.phone.as_deref(), 50)?;
    let email = checked_email(req.email.as_deref())?;
    let status = req.status.unwrap_or(CrewStatus::Available);
    let crew = state.store.create_crew(&name, phone.as_deref(), email.as_deref(), status, state.clock.now()).await?;
    tracing::info!(crew = %crew.name, by = %user.username, "crew added");
    Ok((StatusCode::CREATED, Json(crew)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CrewUpdate {
    #[schema(max_length = 200)]
    name: Option<String>,
    /// null clears it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 50)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 254)]
    email: Option<Option<String>>,
    status: Option<CrewStatus>,
}

#[utoipa::path(
    patch,
    path = "/api/crews/{id}",
    operation_id = "update_crew",
    tag = "crews",
    summary = "Change a crew's status or details",
    params(("id" = String, Path, description = "The crew's id")),
    request_body = CrewUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The crew after the change", body = Crew),
        DispatcherPlusErrors, NotFound,
        (status = 422, description = "An unknown status, an empty name or a bad address", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    DispatcherPlus(user): DispatcherPlus,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CrewUpdate>,
) -> Result<Json<Crew>, ApiError> {
    let change = CrewChange {
        name: req.name.as_deref().map(|n| required_text("name", n, 200)).transpose()?,
        phone: req.phone.map(|p| optional_text("phone", p.as_deref(), 50)).transpose()?,
        email: req.email.map(|e| checked_email(e.as_deref())).transpose()?,
        status: req.status,
    };
    let crew = state.store.update_crew(&id, &change, state.clock.now()).await?;
    tracing::info!(crew = %crew.name, status = %crew.status, by = %user.username, "crew updated");
    Ok(Json(crew))
}
