//! Settlement lookup (open to all) and CSV import (admins).

use axum::extract::{Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Postcode, Settlement, parse_csv};
use crate::app::AppState;
use crate::auth::{Role, User};
use crate::error::{ApiError, ApiQuery, csv_body};
use crate::store::SettlementQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/settlements", get(find)).route("/api/settlements/import", post(import))
}

#[derive(Deserialize)]
struct FindQuery {
    postcode: Option<String>,
    q: Option<String>,
}

#[derive(Serialize)]
struct Found {
    items: Vec<Settlement>,
}

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

#[derive(Serialize)]
pub struct Imported {
    pub imported: usize,
}

/// Imports are larger than ordinary requests: a region's settlement list runs to megabytes.
pub const IMPORT_LIMIT: usize = 8 * 1024 * 1024;

async fn import(State(state): State<AppState>, user: User, request: Request) -> Result<Json<Imported>, ApiError> {
    user.require_one_of(&[Role::Admin])?;
    let text = csv_body(request, IMPORT_LIMIT).await?;
    let rows = parse_csv(&text).map_err(ApiError::bad_rows)?;
    let imported = state.store.upsert_settlements(&rows).await?;
    tracing::info!(imported, by = %user.username, "settlements imported");
    Ok(Json(Imported { imported }))
}
