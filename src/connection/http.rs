//! Connection applications over HTTP: import (admins) and lookup by number (operators).

use axum::extract::{Path, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::app::AppState;
use crate::auth::{Role, User};
use crate::error::{ApiError, csv_body};
use crate::settlements::http::{IMPORT_LIMIT, Imported};
use crate::store::Application;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/connection-applications/import", post(import))
        .route("/api/connection-applications/{number}", get(show))
}

async fn import(State(state): State<AppState>, user: User, request: Request) -> Result<Json<Imported>, ApiError> {
    user.require_one_of(&[Role::Admin])?;
    let text = csv_body(request, IMPORT_LIMIT).await?;
    let rows = super::parse_csv(&text, &state.settings.timezone).map_err(ApiError::bad_rows)?;
    let imported = state.store.upsert_applications(&rows, false).await?;
    tracing::info!(imported, by = %user.username, "connection applications imported");
    Ok(Json(Imported { imported }))
}

async fn show(
    State(state): State<AppState>,
    user: User,
    Path(number): Path<String>,
) -> Result<Json<Application>, ApiError> {
    user.require_at_least(Role::Operator)?;
    let found = state.store.application(number.trim()).await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("connection application {number}")))
}
