//! The internet reception's endpoints: public outages and questions, and appeals from the web
//! with their limits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{FAQ, Faq, SettlementOutages, outages_by_postcode, text_digest};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody, optional_text, required_text};
use crate::phone::PhoneNumber;
use crate::settlements::Postcode;
use crate::store::{WebLimit, WebLimits, WebSender, WebSubmission};
use crate::tickets::{Category, Channel, NewTicket, Status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/public/outages", get(outages))
        .route("/api/public/faq", get(faq))
        .route("/api/public/appeals", post(appeal))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OutagesQuery {
    /// Six digits.
    postcode: String,
}

#[utoipa::path(
    get,
    path = "/api/public/outages",
    tag = "reception",
    summary = "Planned outages of the next two weeks and open incidents for a postcode",
    params(OutagesQuery),
    responses(
        (status = 200, description = "One entry per settlement with that postcode", body = [SettlementOutages]),
        (status = 400, description = "The postcode is missing or not six digits", body = ErrorBody),
    )
)]
async fn outages(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OutagesQuery>,
) -> Result<Json<Vec<SettlementOutages>>, ApiError> {
    let postcode = Postcode::parse(&q.postcode).map_err(|e| ApiError::BadRequest { code: "bad_query", message: e })?;
    Ok(Json(outages_by_postcode(&state.store, &postcode, state.clock.now()).await?))
}

#[utoipa::path(
    get,
    path = "/api/public/faq",
    tag = "reception",
    summary = "The questions people ask most, with answers",
    responses((status = 200, description = "Questions and answers", body = [Faq]))
)]
async fn faq() -> Json<&'static [Faq]> {
    Json(FAQ)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Appeal {
    /// `appeal` (a complaint or request) or `question`; SPEC §5 names it `kind`, also accepted.
    #[serde(default = "default_category", alias = "kind")]
    category: Category,
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Also accepted as `caller_number`, the ticket's name for it.
    #[serde(alias = "caller_number")]
    #[schema(max_length = 50)]
    phone: Option<String>,
    settlement_id: Option<i64>,
    #[schema(max_length = 500)]
    address: Option<String>,
    /// Also accepted as `description`, the ticket's name for it.
    #[serde(alias = "description")]
    #[schema(max_length = 4000)]
    text: String,
}

fn default_category() -> Category {
    Category::Appeal
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
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<Appeal>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    if !matches!(req.category, Category::Appeal | Category::Question) {
        return Err(ApiError::invalid("category must be appeal or question"));
    }
    let text = required_text("text", &req.text, 4000)?;
    crate::error::within_length("phone", req.phone.as_deref(), 50)?;
    let phone = req
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("phone: {e}")))?;
    let name = optional_text("name", req.name.as_deref(), 200)?;
    let address = optional_text("address", req.address.as_deref(), 500)?;
    let sender = WebSender {
        client: client.limit_key(),
        phone: phone.as_ref().map(|p| p.as_str().to_string()),
        text_digest: text_digest(&text),
    };
    let description = match name {
        Some(name) => format!("{text}\n\nОт: {name}"),
        None => text,
    };
    let new = NewTicket {
        category: req.category,
        priority: req.category.default_priority(),
        channel: Channel::Web,
        status: Status::Queued,
        caller_number: phone,
        settlement_id: req.settlement_id,
        address,
        description,
        recording_url: None,
        recording_duration_s: None,
        call_id: None,
        assignee_id: None,
        actor: "web".into(),
        incident_window_s: None,
        escalation: None,
    };
    let limits = WebLimits::default();
    let outcome = state
        .store
        .submit_web_ticket(&new, &sender, &limits, &state.settings.queue_ordering, state.clock.now())
        .await?;
    match outcome {
        WebSubmission::Created(ticket) => {
            tracing::info!(number = %ticket.number, "appeal received from the web");
            Ok((StatusCode::CREATED, Json(Accepted { number: ticket.number.to_string() })))
        }
        WebSubmission::Repeat { number } => {
            tracing::info!(%number, "the same appeal again from the web: answered with its number");
            Ok((StatusCode::OK, Json(Accepted { number })))
        }
        WebSubmission::Limited { limit, retry_after_s } => {
            tracing::info!(?limit, retry_after_s, client = %sender.client, "web appeal refused: limit reached");
            Err(too_many(limit, &limits, retry_after_s))
        }
    }
}

/// The refusal a visitor over a limit reads, in Russian, with where to turn meanwhile: a
/// hazard must never wait for a web form.
fn too_many(limit: WebLimit, limits: &WebLimits, retry_after_s: i64) -> ApiError {
    let whose = match limit {
        WebLimit::Client => format!("с вашего адреса: не больше {} в час", limits.per_client),
        WebLimit::Phone => format!("с этим номером телефона: не больше {} в час", limits.per_phone),
    };
    let minutes = (retry_after_s + 59) / 60;
    ApiError::TooManyRequests {
        message: format!(
            "Слишком много обращений {whose}. Повторите попытку через {minutes} мин. Если оборван провод, искрит \
             или есть угроза жизни — звоните 8-800-50-50-115 (бесплатно, круглосуточно) или 112."
        ),
        retry_after_s: u64::try_from(retry_after_s).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_russian_and_says_when_to_come_back() {
        let error = too_many(WebLimit::Phone, &WebLimits::default(), 61);
        assert!(error.to_string().starts_with("Слишком много обращений с этим номером телефона"), "{error}");
        assert!(error.to_string().contains("через 2 мин."), "{error}");
        assert!(matches!(error, ApiError::TooManyRequests { retry_after_s: 61, .. }));
    }
}
