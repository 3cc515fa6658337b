//! The internet reception: what the utility's website shows without a login (outages by
//! postcode, frequent questions) and the appeals visitors send, which become tickets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody, optional_text, required_text};
use crate::outages::{Incident, PlannedOutage};
use crate::phone::PhoneNumber;
use crate::settlements::{Postcode, Settlement};
use crate::store::SettlementQuery;
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

#[derive(Serialize, utoipa::ToSchema)]
struct SettlementOutages {
    settlement: Settlement,
    planned: Vec<PlannedOutage>,
    incident: Option<Incident>,
}

/// How far ahead the public schedule reaches.
const PUBLIC_HORIZON_S: i64 = 14 * 24 * 3600;

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
    let now = state.clock.now();
    let mut out = Vec::new();
    let query = SettlementQuery { postcode: Some(postcode.as_str().to_string()), name: None };
    for settlement in state.store.find_settlements(&query).await? {
        let planned =
            state.store.planned_outages(Some(settlement.id), None, now, now.plus_seconds(PUBLIC_HORIZON_S)).await?;
        let incident = state.store.open_incident(settlement.id).await?;
        out.push(SettlementOutages { settlement, planned, incident });
    }
    Ok(Json(out))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Faq {
    question: &'static str,
    answer: &'static str,
}

/// The questions people ask most, answered in a sentence or two.
const FAQ: &[Faq] = &[
    Faq {
        question: "Нет света. Что делать?",
        answer: "Проверьте вводной автомат и есть ли свет у соседей. Если света нет у всех — позвоните 8-800-50-50-115 (бесплатно, круглосуточно) или оставьте обращение на сайте.",
    },
    Faq {
        question: "Вижу оборванный провод.",
        answer: "Не подходите ближе восьми метров и не подпускайте других. Сразу позвоните 8-800-50-50-115 и нажмите 1; если кто-то пострадал — 112.",
    },
    Faq {
        question: "Как узнать о плановых отключениях?",
        answer: "Введите почтовый индекс на этой странице или позвоните на горячую линию и нажмите 3.",
    },
    Faq {
        question: "Как подать заявку на технологическое присоединение?",
        answer: "В личном кабинете на сайте или в центре обслуживания клиентов. Для граждан до 15 кВт срок — до 4 месяцев в городе и до 6 месяцев в остальных случаях.",
    },
    Faq {
        question: "Как сообщить о хищении электроэнергии?",
        answer: "Позвоните на горячую линию и нажмите 5 или оставьте обращение на сайте. Называть себя не обязательно.",
    },
];

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
    /// `appeal` (a complaint or request) or `question`.
    #[serde(default = "default_category")]
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
    responses(
        (status = 201, description = "Accepted; the number to quote", body = Accepted),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, too long or not allowed", body = ErrorBody),
    )
)]
async fn appeal(
    State(state): State<AppState>,
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
    let ticket = state.store.create_queued_ticket(&new, &state.settings.queue_ordering, state.clock.now()).await?;
    tracing::info!(number = %ticket.number, "appeal received from the web");
    Ok((StatusCode::CREATED, Json(Accepted { number: ticket.number })))
}
