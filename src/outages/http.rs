//! Planned outages, incidents and storm mode over HTTP (SPEC §5).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Incident, IncidentStatus, NewPlannedOutage, PlannedOutage, STORM_SWITCH, parse_planned_csv, parse_time};
use crate::app::AppState;
use crate::auth::{Role, User};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiJson, ApiQuery, csv_body};
use crate::settlements::http::{IMPORT_LIMIT, Imported};
use crate::store::SettlementQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/planned-outages", get(list_planned).post(add_planned))
        .route("/api/planned-outages/import", post(import_planned))
        .route("/api/incidents", get(list_incidents))
        .route("/api/incidents/{id}", patch(update_incident))
        .route("/api/storm-mode", get(storm_mode).put(set_storm_mode))
}

#[derive(Deserialize)]
struct PlannedQuery {
    settlement_id: Option<i64>,
    postcode: Option<String>,
}

/// How far ahead a schedule is listed unless asked otherwise.
const LISTING_HORIZON_S: i64 = 31 * 24 * 3600;

#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

async fn list_planned(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PlannedQuery>,
) -> Result<Json<Items<PlannedOutage>>, ApiError> {
    let now = state.clock.now();
    let mut items = state.store.planned_outages(q.settlement_id, now, now.plus_seconds(LISTING_HORIZON_S)).await?;
    if let Some(postcode) = q.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        items.retain(|p| p.settlement.postcode == postcode);
    }
    Ok(Json(Items { items }))
}

#[derive(Deserialize)]
struct NewPlanned {
    settlement_id: i64,
    starts_at: String,
    ends_at: String,
    streets: Option<String>,
    reason: Option<String>,
}

async fn add_planned(
    State(state): State<AppState>,
    user: User,
    ApiJson(req): ApiJson<NewPlanned>,
) -> Result<(StatusCode, Json<PlannedOutage>), ApiError> {
    user.require_at_least(Role::Supervisor)?;
    let tz = &state.settings.timezone;
    let starts_at = parse_time(&req.starts_at, tz).map_err(|e| ApiError::invalid(format!("starts_at: {e}")))?;
    let ends_at = parse_time(&req.ends_at, tz).map_err(|e| ApiError::invalid(format!("ends_at: {e}")))?;
    if ends_at <= starts_at {
        return Err(ApiError::invalid("ends_at must be after starts_at"));
    }
    let outage = NewPlannedOutage {
        settlement_id: req.settlement_id,
        starts_at,
        ends_at,
        streets: req.streets.filter(|s| !s.trim().is_empty()),
        reason: req.reason.filter(|s| !s.trim().is_empty()),
        demo: false,
    };
    let now = state.clock.now();
    let ids = state.store.add_planned_outages(std::slice::from_ref(&outage), now).await?;
    let stored = state.store.planned_outages(Some(outage.settlement_id), Timestamp(0), Timestamp(i64::MAX)).await?;
    let created =
        stored.into_iter().find(|p| Some(&p.id) == ids.first()).ok_or_else(|| ApiError::not_found("planned outage"))?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn import_planned(
    State(state): State<AppState>,
    user: User,
    request: Request,
) -> Result<Json<Imported>, ApiError> {
    user.require_at_least(Role::Supervisor)?;
    let text = csv_body(request, IMPORT_LIMIT).await?;
    let imported = import_planned_csv(&state, &text).await?;
    tracing::info!(imported, by = %user.username, "planned outages imported");
    Ok(Json(Imported { imported }))
}

/// Checks a whole planned-outage file and stores it, or nothing.
pub async fn import_planned_csv(state: &AppState, text: &str) -> Result<usize, ApiError> {
    let settlements = state.store.find_all_settlements().await?;
    let outages = parse_planned_csv(text, &settlements, &state.settings.timezone).map_err(ApiError::bad_rows)?;
    Ok(state.store.add_planned_outages(&outages, state.clock.now()).await?.len())
}

#[derive(Deserialize)]
struct IncidentQuery {
    status: Option<IncidentStatus>,
}

async fn list_incidents(
    State(state): State<AppState>,
    user: User,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> Result<Json<Items<Incident>>, ApiError> {
    user.require_at_least(Role::Dispatcher)?;
    Ok(Json(Items { items: state.store.incidents(q.status).await? }))
}

#[derive(Deserialize)]
struct IncidentUpdate {
    status: Option<IncidentStatus>,
    /// An ISO 8601 time, or null to clear it; absent leaves it as it is.
    #[serde(default, deserialize_with = "present")]
    etr: Option<Option<String>>,
}

/// Tells "etr": null (clear it) from no "etr" at all (leave it).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn update_incident(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<IncidentUpdate>,
) -> Result<Json<Incident>, ApiError> {
    user.require_at_least(Role::Dispatcher)?;
    let tz = &state.settings.timezone;
    let etr = match req.etr {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(parse_time(&raw, tz).map_err(|e| ApiError::invalid(format!("etr: {e}")))?)),
    };
    let updated = state.store.update_incident(&id, req.status, etr, &user.username, state.clock.now()).await?;
    tracing::info!(incident = %id, status = %updated.status, by = %user.username, "incident updated");
    Ok(Json(updated))
}

#[derive(Serialize)]
struct StormMode {
    /// Whether callers get the storm greeting now.
    on: bool,
    /// A supervisor switched it on.
    manual: bool,
    open_incidents: i64,
    threshold: i64,
}

async fn storm_status(state: &AppState) -> Result<StormMode, ApiError> {
    let manual = state.store.switch(STORM_SWITCH).await?;
    let open_incidents = state.store.count_open_incidents().await?;
    let threshold = state.settings.storm_threshold;
    let on = super::storm_mode_on(manual.as_deref(), async { Ok::<_, ApiError>(open_incidents) }, threshold).await?;
    Ok(StormMode { on, manual: manual.as_deref() == Some("on"), open_incidents, threshold })
}

async fn storm_mode(State(state): State<AppState>, user: User) -> Result<Json<StormMode>, ApiError> {
    user.require_at_least(Role::Operator)?;
    Ok(Json(storm_status(&state).await?))
}

#[derive(Deserialize)]
struct SetStorm {
    on: bool,
}

/// On forces storm mode; off hands it back to the automatic threshold.
async fn set_storm_mode(
    State(state): State<AppState>,
    user: User,
    ApiJson(req): ApiJson<SetStorm>,
) -> Result<Json<StormMode>, ApiError> {
    user.require_at_least(Role::Supervisor)?;
    let value = if req.on { "on" } else { "auto" };
    state.store.set_switch(STORM_SWITCH, value, &user.username, state.clock.now()).await?;
    tracing::warn!(on = req.on, by = %user.username, "storm mode switched");
    Ok(Json(storm_status(&state).await?))
}

/// Settlements with a postcode, for the public outage page.
pub async fn settlements_at(state: &AppState, postcode: &str) -> Result<Vec<crate::settlements::Settlement>, ApiError> {
    Ok(state.store.find_settlements(&SettlementQuery { postcode: Some(postcode.to_string()), name: None }).await?)
}
