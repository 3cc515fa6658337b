//! `POST /api/personal-data/erase`: an administrator erases one number's personal data.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::Erasure;
use crate::app::AppState;
use crate::auth::http::AdminOnly;
use crate::error::responses::AdminOnlyErrors;
use crate::error::{ApiError, ApiJson, ErrorBody, within_length};
use crate::phone::PhoneNumber;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/personal-data/erase", post(erase))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct EraseRequest {
    /// The number whose personal data is to be erased, in any usual spelling (`+79101234567`,
    /// `8 910 123-45-67`).
    #[schema(max_length = 32, example = "+79101234567")]
    phone: String,
}

#[utoipa::path(
    post,
    path = "/api/personal-data/erase",
    tag = "privacy",
    summary = "Erase one phone number's personal data everywhere (SPEC §6)",
    description = "The number is replaced by its masked form (`+7910***4567`) in every table and text column that \
                   can hold it: calls and their webhook logs, tickets (with their notes; the caller's recording links \
                   are removed), queue items, the mail outbox, the event log, power-back subscriptions, outbound \
                   calls, web submissions. The stored answers of the number's ended calls are removed, a call back \
                   still waiting is cancelled and a power-back call still to be placed is dropped. The erasure is \
                   audited with the number masked, who did it and how many rows changed.",
    request_body = EraseRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What changed, by kind", body = Erasure),
        (status = 400, description = "The phone is not a phone number; nothing changed", body = ErrorBody),
        AdminOnlyErrors,
    )
)]
async fn erase(
    State(state): State<AppState>,
    AdminOnly(user): AdminOnly,
    ApiJson(req): ApiJson<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    within_length("phone", Some(&req.phone), 32)?;
    let phone = PhoneNumber::parse(&req.phone)
        .map_err(|e| ApiError::BadRequest { code: "bad_phone", message: e.to_string() })?;
    let erasure = super::erase(&state.store, &phone, &user.username, state.clock.now()).await?;
    Ok(Json(erasure))
}
