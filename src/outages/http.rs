//! Planned outages, incidents and storm mode over HTTP (SPEC §5).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{
    Incident, IncidentStatus, NewPlannedOutage, PlannedOutage, STORM_SWITCH, parse_planned_csv, parse_time,
    settlement_at,
};
use crate::app::AppState;
use crate::auth::http::{DispatcherOnly, DispatcherPlus, OperatorPlus, SupervisorPlus};
use crate::clock::Timestamp;
use crate::csv_import::{IMPORT_LIMIT, Imported};
use crate::error::responses::{
    CsvImportErrors, DispatcherOnlyErrors, DispatcherPlusErrors, NotFound, OperatorPlusErrors, SupervisorPlusErrors,
};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody, csv_body, optional_text, present, within_length};
use crate::escalation::http::Assignment;
use crate::escalation::mail::{crew_job, local_time};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/planned-outages", get(list_planned).post(add_planned))
        .route("/api/planned-outages/import", post(import_planned))
        .route("/api/incidents", get(list_incidents))
        .route("/api/incidents/{id}", patch(update_incident))
        .route("/api/incidents/{id}/assign", post(assign_crew))
        .route("/api/storm-mode", get(storm_mode).put(set_storm_mode))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PlannedQuery {
    settlement_id: Option<i64>,
    /// Six digits.
    postcode: Option<String>,
}

/// How far ahead a schedule is listed unless asked otherwise.
const LISTING_HORIZON_S: i64 = 31 * 24 * 3600;

#[derive(Serialize, utoipa::ToSchema)]
struct Items<T> {
    items: Vec<T>,
}

#[utoipa::path(
    get,
    path = "/api/planned-outages",
    tag = "outages",
    summary = "Planned outages of the next month, by settlement or postcode",
    params(PlannedQuery),
    responses(
        (status = 200, description = "Planned outages", body = Items<PlannedOutage>),
    )
)]
async fn list_planned(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PlannedQuery>,
) -> Result<Json<Items<PlannedOutage>>, ApiError> {
    let now = state.clock.now();
    let postcode = q.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let items =
        state.store.planned_outages(q.settlement_id, postcode, now, now.plus_seconds(LISTING_HORIZON_S)).await?;
    Ok(Json(Items { items }))
}

/// The settlement by `settlement_id`, or as a schedule names it: by `postcode` and, where
/// several share it, `settlement` (the name).
#[derive(Deserialize, utoipa::ToSchema)]
struct NewPlanned {
    settlement_id: Option<i64>,
    #[schema(max_length = 20)]
    postcode: Option<String>,
    #[schema(max_length = 200)]
    settlement: Option<String>,
    /// ISO 8601; without an offset it is read in the service's time zone.
    #[schema(max_length = 64)]
    starts_at: String,
    /// ISO 8601, after `starts_at`.
    #[schema(max_length = 64)]
    ends_at: String,
    #[schema(max_length = 2000)]
    streets: Option<String>,
    #[schema(max_length = 500)]
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/planned-outages",
    tag = "outages",
    summary = "Add one planned outage",
    request_body = NewPlanned,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The planned outage as stored", body = PlannedOutage),
        SupervisorPlusErrors,
        (status = 422, description = "Bad times, an empty window or an unknown settlement", body = ErrorBody),
    )
)]
async fn add_planned(
    State(state): State<AppState>,
    _: SupervisorPlus,
    ApiJson(req): ApiJson<NewPlanned>,
) -> Result<(StatusCode, Json<PlannedOutage>), ApiError> {
    for (field, value, max) in [
        ("postcode", req.postcode.as_deref(), 20),
        ("settlement", req.settlement.as_deref(), 200),
        ("starts_at", Some(req.starts_at.as_str()), 64),
        ("ends_at", Some(req.ends_at.as_str()), 64),
    ] {
        within_length(field, value, max)?;
    }
    let streets = optional_text("streets", req.streets.as_deref(), 2000)?;
    let reason = optional_text("reason", req.reason.as_deref(), 500)?;
    let tz = &state.settings.timezone;
    let starts_at = parse_time(&req.starts_at, tz).map_err(|e| ApiError::invalid(format!("starts_at: {e}")))?;
    let ends_at = parse_time(&req.ends_at, tz).map_err(|e| ApiError::invalid(format!("ends_at: {e}")))?;
    if ends_at <= starts_at {
        return Err(ApiError::invalid("ends_at must be after starts_at"));
    }
    let settlement_id = match (req.settlement_id, req.postcode.as_deref()) {
        (Some(id), _) => id,
        (None, Some(postcode)) => {
            let settlements = state.store.find_all_settlements().await?;
            settlement_at(&settlements, postcode, req.settlement.as_deref()).map_err(ApiError::invalid)?.id
        }
        (None, None) => return Err(ApiError::invalid("settlement_id or postcode is required")),
    };
    let outage = NewPlannedOutage { settlement_id, starts_at, ends_at, streets, reason, demo: false };
    let now = state.clock.now();
    let ids = state.store.add_planned_outages(std::slice::from_ref(&outage), now).await?;
    let stored =
        state.store.planned_outages(Some(outage.settlement_id), None, Timestamp(0), Timestamp(i64::MAX)).await?;
    let created =
        stored.into_iter().find(|p| Some(&p.id) == ids.first()).ok_or_else(|| ApiError::not_found("planned outage"))?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    post,
    path = "/api/planned-outages/import",
    tag = "outages",
    summary = "Import planned outages from CSV, all rows or none",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "A header `postcode,settlement,starts_at,ends_at,streets,reason` and one outage a line"
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many planned outages were stored", body = Imported),
        SupervisorPlusErrors, CsvImportErrors,
    )
)]
async fn import_planned(
    State(state): State<AppState>,
    SupervisorPlus(user): SupervisorPlus,
    request: Request,
) -> Result<Json<Imported>, ApiError> {
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IncidentQuery {
    status: Option<IncidentStatus>,
}

#[utoipa::path(
    get,
    path = "/api/incidents",
    tag = "outages",
    summary = "Incidents: outage reports grouped by settlement",
    params(IncidentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Incidents", body = Items<Incident>),
        DispatcherPlusErrors,
        (status = 400, description = "The status filter is not a known status", body = ErrorBody),
    )
)]
async fn list_incidents(
    State(state): State<AppState>,
    _: DispatcherPlus,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> Result<Json<Items<Incident>>, ApiError> {
    Ok(Json(Items { items: state.store.incidents(q.status).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct IncidentUpdate {
    status: Option<IncidentStatus>,
    /// An ISO 8601 time, or null to clear it; absent leaves it as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 64)]
    etr: Option<Option<String>>,
}

#[utoipa::path(
    patch,
    path = "/api/incidents/{id}",
    tag = "outages",
    summary = "Change an incident's status or estimated restoration time",
    params(("id" = String, Path, description = "The incident's id")),
    request_body = IncidentUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The incident after the change", body = Incident),
        DispatcherPlusErrors, NotFound,
        (status = 422, description = "An unknown status or a bad time", body = ErrorBody),
    )
)]
async fn update_incident(
    State(state): State<AppState>,
    DispatcherPlus(user): DispatcherPlus,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<IncidentUpdate>,
) -> Result<Json<Incident>, ApiError> {
    within_length("etr", req.etr.as_ref().and_then(|e| e.as_deref()), 64)?;
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

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/assign",
    operation_id = "assign_crew_to_incident",
    tag = "outages",
    summary = "Send a crew to an incident: it is e-mailed the job; callers from the settlement hear it",
    params(("id" = String, Path, description = "The incident's id")),
    request_body = Assignment,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The incident, now in progress with its crew", body = Incident),
        DispatcherOnlyErrors, NotFound,
        (status = 409, description = "The incident is resolved or the crew is off duty", body = ErrorBody),
    )
)]
pub(crate) async fn assign_crew(
    State(state): State<AppState>,
    DispatcherOnly(user): DispatcherOnly,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Assignment>,
) -> Result<Json<Incident>, ApiError> {
    within_length("crew_id", Some(&req.crew_id), 64)?;
    let incident = state.store.incident(&id).await?;
    let what = format!("авария, {}", incident.settlement.name);
    let facts = format!(
        "Населённый пункт: {} ({})\nСообщений об отключении: {}\nПервое сообщение: {}",
        incident.settlement.name,
        incident.settlement.postcode,
        incident.reports,
        local_time(incident.opened_at, &state.settings.timezone)
    );
    let settings = state.settings.clone();
    let job = move |crew: &crate::crews::Crew| crew_job(&settings, crew, None, &what, &facts);
    let updated =
        state.store.assign_crew_to_incident(&id, &req.crew_id, &user.username, job, state.clock.now()).await?;
    tracing::info!(incident = %id, crew = ?updated.crew_id, by = %user.username, "crew sent to an incident");
    Ok(Json(updated))
}

#[derive(Serialize, utoipa::ToSchema)]
struct StormMode {
    /// Whether callers get the storm greeting now.
    on: bool,
    /// A supervisor switched it on.
    manual: bool,
    open_incidents: i64,
    threshold: i64,
}

async fn storm_status(state: &AppState) -> Result<StormMode, ApiError> {
    let inputs = state.store.storm_inputs().await?;
    let threshold = state.settings.storm_threshold;
    let on = inputs.storm_on(threshold);
    Ok(StormMode {
        on,
        manual: inputs.manual.as_deref() == Some("on"),
        open_incidents: inputs.open_incidents,
        threshold,
    })
}

#[utoipa::path(
    get,
    path = "/api/storm-mode",
    tag = "outages",
    summary = "Whether storm mode is on, and why",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Storm mode now", body = StormMode),
        OperatorPlusErrors,
    )
)]
async fn storm_mode(State(state): State<AppState>, _: OperatorPlus) -> Result<Json<StormMode>, ApiError> {
    Ok(Json(storm_status(&state).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct SetStorm {
    on: bool,
}

/// On forces storm mode; off hands it back to the automatic threshold.
#[utoipa::path(
    put,
    path = "/api/storm-mode",
    tag = "outages",
    summary = "Force storm mode on, or hand it back to the automatic threshold",
    request_body = SetStorm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Storm mode after the change", body = StormMode),
        SupervisorPlusErrors,
        (status = 422, description = "`on` is missing or not a boolean", body = ErrorBody),
    )
)]
async fn set_storm_mode(
    State(state): State<AppState>,
    SupervisorPlus(user): SupervisorPlus,
    ApiJson(req): ApiJson<SetStorm>,
) -> Result<Json<StormMode>, ApiError> {
    let value = if req.on { "on" } else { "auto" };
    state.store.set_switch(STORM_SWITCH, value, &user.username, state.clock.now()).await?;
    tracing::warn!(on = req.on, by = %user.username, "storm mode switched");
    Ok(Json(storm_status(&state).await?))
}
