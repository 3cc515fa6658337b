//! The internet reception's endpoints: public outages and questions, and appeals from the web
//! with their limits.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{
    AppealStatus, Faq, Office, RawReport, ReceptionContext, Report, ReportKind, SettlementOutages, StatusLookup,
    appeal_status, lookups_throttled, outages_for, phone_last4, refusal_text, settlement_query, submit,
};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::settlements::Postcode;
use crate::store::{SettlementQuery, WebSubmission};
use crate::tickets::TicketNumber;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/public/outages", get(outages))
        .route("/api/public/faq", get(faq))
        .route("/api/public/offices", get(offices))
        .route("/api/public/appeals", post(appeal))
        .route("/api/public/appeals/{number}", get(status))
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "bad_query", message: message.into() }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OutagesQuery {
    /// Six digits.
    postcode: Option<String>,
    /// A part of a settlement's name (or a postcode); used when `postcode` is not given.
    #[param(max_length = 100)]
    q: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/public/outages",
    tag = "reception",
    summary = "Planned outages of the next two weeks and open incidents, by postcode or settlement name",
    params(OutagesQuery),
    responses(
        (status = 200, description = "One entry per matching settlement (at most 20)", body = [SettlementOutages]),
        (status = 400, description = "Neither a six-digit postcode nor a name of two to 100 characters", body = ErrorBody),
    )
)]
async fn outages(
    State(ctx): State<ReceptionContext>,
    ApiQuery(q): ApiQuery<OutagesQuery>,
) -> Result<Json<Vec<SettlementOutages>>, ApiError> {
    let query = match (q.postcode, q.q) {
        (Some(postcode), _) => {
            let postcode = Postcode::parse(&postcode).map_err(bad_query)?;
            SettlementQuery { postcode: Some(postcode.as_str().to_string()), name: None }
        }
        (None, Some(text)) => settlement_query(&text).map_err(|e| bad_query(format!("q: {e}")))?,
        (None, None) => return Err(bad_query("give postcode=NNNNNN or q=NAME")),
    };
    Ok(Json(outages_for(&ctx.store, &query, ctx.clock.now()).await?))
}

#[utoipa::path(
    get,
    path = "/api/public/faq",
    tag = "reception",
    summary = "The questions people ask most, with answers",
    responses((status = 200, description = "Questions and answers", body = [Faq]))
)]
async fn faq(State(ctx): State<ReceptionContext>) -> Json<Vec<Faq>> {
    Json(ctx.content.faq.clone())
}

#[utoipa::path(
    get,
    path = "/api/public/offices",
    tag = "reception",
    summary = "The customer-service centres (ЦОК): address, phones, opening hours",
    responses((status = 200, description = "The centres", body = [Office]))
)]
async fn offices(State(ctx): State<ReceptionContext>) -> Json<Vec<Office>> {
    Json(ctx.content.offices.clone())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Appeal {
    /// What is reported; `appeal` unless given. Also accepted as `category`.
    #[serde(alias = "category")]
    #[schema(value_type = Option<ReportKind>)]
    kind: Option<String>,
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Also accepted as `caller_number`, the ticket's name for it.
    #[serde(alias = "caller_number")]
    #[schema(max_length = 50)]
    phone: Option<String>,
    #[schema(max_length = 200)]
    email: Option<String>,
    settlement_id: Option<i64>,
    /// The settlement's postcode, when `settlement_id` is not given.
    #[schema(max_length = 20)]
    postcode: Option<String>,
    #[schema(max_length = 500)]
    address: Option<String>,
    /// Also accepted as `description`, the ticket's name for it.
    #[serde(alias = "description")]
    #[schema(max_length = 4000)]
    text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Accepted {
    number: String,
}

#[utoipa::path(
    post,
    path = "/api/public/appeals",
    tag = "reception",
    summary = "Send an appeal or a question from the website; it becomes a ticket",
    request_body = Appeal,
    description = "Limited per SPEC §7: at most 10 submissions an hour from one client address (the peer, or \
        X-Forwarded-For from a proxy in HOTLINE_TRUSTED_PROXIES) and 3 an hour for one phone number. The same \
        text from the same phone within 24 hours answers 200 with the number it got the first time and creates \
        nothing.",
    responses(
        (status = 201, description = "Accepted; the number to quote", body = Accepted),
        (status = 200, description = "The same text from the same phone came in within 24 hours: its number; nothing new was created", body = Accepted),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, too long or not allowed", body = ErrorBody),
        (status = 429, description = "Too many submissions from this address or for this phone in the last hour; \
            nothing was created", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a submission can get through"))),
    )
)]
async fn appeal(
    State(ctx): State<ReceptionContext>,
    client: ClientAddr,
    ApiJson(req): ApiJson<Appeal>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    if let Some(postcode) = req.postcode.as_deref().filter(|p| !p.trim().is_empty()) {
        Postcode::parse(postcode).map_err(|e| ApiError::invalid(format!("postcode: {e}")))?;
    }
    let raw = RawReport {
        kind: req.kind.as_deref().unwrap_or(ReportKind::Appeal.as_str()),
        text: &req.text,
        name: req.name.as_deref(),
        phone: req.phone.as_deref(),
        email: req.email.as_deref(),
        place: req.postcode.as_deref(),
        settlement_id: req.settlement_id,
        address: req.address.as_deref(),
    };
    let report = Report::parse(&raw).map_err(|errors| {
        let first = &errors[0];
        ApiError::invalid(format!("{}: {}", first.field, first.message))
    })?;
    let client = client.limit_key();
    match submit(&ctx, report, client.clone()).await? {
        WebSubmission::Created(ticket) => {
            tracing::info!(number = %ticket.number, category = %ticket.category, "report received from the web");
            Ok((StatusCode::CREATED, Json(Accepted { number: ticket.number.to_string() })))
        }
        WebSubmission::Repeat { number } => {
            tracing::info!(%number, "the same appeal again from the web: answered with its number");
            Ok((StatusCode::OK, Json(Accepted { number })))
        }
        WebSubmission::Limited { limit, retry_after_s } => {
            tracing::info!(?limit, retry_after_s, %client, "web appeal refused: limit reached");
            Err(ApiError::TooManyRequests {
                message: refusal_text(limit, retry_after_s),
                retry_after_s: u64::try_from(retry_after_s).unwrap_or(1),
            })
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatusQuery {
    /// The last four digits of the phone given with the appeal.
    #[param(pattern = "^[0-9]{4}$")]
    phone_last4: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/public/appeals/{number}",
    operation_id = "appeal_status",
    tag = "reception",
    summary = "The status of an appeal for its author, with the operator's answer once given",
    params(("number" = String, Path, description = "The ticket number the author was given"), StatusQuery),
    responses(
        (status = 200, description = "The appeal's status", body = AppealStatus),
        (status = 400, description = "phone_last4 is missing or not four digits", body = ErrorBody),
        (status = 404, description = "No appeal with that number and those last four digits", body = ErrorBody),
        (status = 429, description = "Too many wrong lookups of this number or from this address lately", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next lookup is taken"))),
    )
)]
async fn status(
    State(ctx): State<ReceptionContext>,
    client: ClientAddr,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Json<AppealStatus>, ApiError> {
    let last4 = phone_last4(q.phone_last4.as_deref().unwrap_or_default())
        .map_err(|_| bad_query("phone_last4 must be the last four digits of the phone, e.g. 4567"))?;
    let not_found = || ApiError::not_found(format!("appeal '{number}' with a phone ending in {last4}"));
    let number: TicketNumber = number.parse().map_err(|_| not_found())?;
    match appeal_status(&ctx, number, &last4, &client.limit_key()).await? {
        StatusLookup::Found(status) => Ok(Json(*status)),
        StatusLookup::NotFound => Err(not_found()),
        StatusLookup::Throttled { retry_after_s } => {
            Err(ApiError::TooManyRequests { message: lookups_throttled(retry_after_s), retry_after_s })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WebLimit;

    #[test]
    fn the_refusal_is_russian_and_says_when_to_come_back() {
        let text = refusal_text(WebLimit::Phone, 61);
        assert!(text.starts_with("Слишком много обращений с этим номером телефона"), "{text}");
        assert!(text.contains("через 2 мин."), "{text}");
    }
}
