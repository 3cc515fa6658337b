//! Connection applications over HTTP: import (admins) and lookup by number (operators).

use axum::extract::{Path, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Application;
use crate::app::AppState;
use crate::auth::http::{AdminOnly, OperatorPlus};
use crate::csv_import::{IMPORT_LIMIT, Imported};
use crate::error::responses::{AdminOnlyErrors, CsvImportErrors, NotFound, OperatorPlusErrors};
use crate::error::{ApiError, csv_body};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/connection-applications/import", post(import))
        .route("/api/connection-applications/{number}", get(show))
}

#[utoipa::path(
    post,
    path = "/api/connection-applications/import",
    operation_id = "import_applications",
    tag = "connection",
    summary = "Import connection applications from CSV, all rows or none",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "A header `number,applicant,status,updated_at` and one application a line"
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many applications were stored", body = Imported),
        AdminOnlyErrors, CsvImportErrors,
    )
)]
async fn import(
    State(state): State<AppState>,
    AdminOnly(user): AdminOnly,
    request: Request,
) -> Result<Json<Imported>, ApiError> {
    let text = csv_body(request, IMPORT_LIMIT).await?;
    let rows = super::parse_csv(&text, &state.settings.timezone).map_err(ApiError::bad_rows)?;
    let imported = state.store.upsert_applications(&rows, false).await?;
    tracing::info!(imported, by = %user.username, "connection applications imported");
    Ok(Json(Imported { imported }))
}

#[utoipa::path(
    get,
    path = "/api/connection-applications/{number}",
    operation_id = "show_application",
    tag = "connection",
    summary = "A connection application's status by its number",
    params(("number" = String, Path, description = "The application's number")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        OperatorPlusErrors, NotFound,
    )
)]
async fn show(
    State(state): State<AppState>,
    _: OperatorPlus,
    Path(number): Path<String>,
) -> Result<Json<Application>, ApiError> {
    let found = state.store.application(number.trim()).await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("connection application {number}")))
}
