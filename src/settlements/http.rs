//! Settlement lookup (open to all) and CSV import (admins).

use axum::extract::{Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Postcode, Settlement, parse_csv};
use crate::app::AppState;
use crate::auth::http::AdminOnly;
use crate::csv_import::{IMPORT_LIMIT, Imported};
use crate::error::responses::{AdminOnlyErrors, CsvImportErrors};
use crate::error::{ApiError, ApiQuery, ErrorBody, csv_body};
use crate::store::SettlementQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/settlements", get(find)).route("/api/settlements/import", post(import))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FindQuery {
    /// Six digits.
    postcode: Option<String>,
    /// Part of the settlement's name.
    q: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Found {
    items: Vec<Settlement>,
}

#[utoipa::path(
    get,
    path = "/api/settlements",
    tag = "settlements",
    summary = "Find settlements by postcode or name",
    params(FindQuery),
    responses(
        (status = 200, description = "The settlements that match", body = Found),
        (status = 400, description = "The postcode is not six digits", body = ErrorBody),
    )
)]
async fn find(State(state): State<AppState>, ApiQuery(query): ApiQuery<FindQuery>) -> Result<Json<Found>, ApiError> {
    let postcode = match query.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(raw) => Some(
            Postcode::parse(raw)
                .map_err(|e| ApiError::BadRequest { code: "bad_query", message: e })?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let items = state.store.find_settlements(&SettlementQuery { postcode, name: query.q }).await?;
    Ok(Json(Found { items }))
}

#[utoipa::path(
    post,
    path = "/api/settlements/import",
    operation_id = "import_settlements",
    tag = "settlements",
    summary = "Import settlements from CSV, all rows or none",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "A header `name,type,district,postcode` and one settlement a line"
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many settlements were stored", body = Imported),
        AdminOnlyErrors, CsvImportErrors,
    )
)]
async fn import(
    State(state): State<AppState>,
    AdminOnly(user): AdminOnly,
    request: Request,
) -> Result<Json<Imported>, ApiError> {
    let text = csv_body(request, IMPORT_LIMIT).await?;
    let rows = parse_csv(&text).map_err(ApiError::bad_rows)?;
    let imported = state.store.upsert_settlements(&rows).await?;
    state.calls.hints.forget();
    tracing::info!(imported, by = %user.username, "settlements imported");
    Ok(Json(Imported { imported }))
}
