//! Login, logout and "who am I" endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{BearerToken, LoginOutcome, User};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::clock::Timestamp;
use crate::error::responses::Unauthenticated;
use crate::error::{ApiError, ApiJson, ErrorBody, within_length};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginRequest {
    #[schema(max_length = 64)]
    username: String,
    #[schema(format = Password, max_length = 1024)]
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginResponse {
    /// Send it back as `Authorization: Bearer <token>`.
    token: String,
    user: User,
    expires_at: Timestamp,
}

#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    summary = "Log in with a username and password and get a bearer token",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this username or from this address within \
            10 minutes; `Retry-After` says in how many seconds to try again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is taken"))),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // Longer cannot be anyone's: refused before it is counted or hashed.
    within_length("username", Some(&req.username), 64)?;
    within_length("password", Some(&req.password), 1024)?;
    match super::login(&state, &req.username, &req.password, client).await? {
        LoginOutcome::LoggedIn { token, user, expires_at } => {
            tracing::info!(username = %user.username, role = %user.role, "logged in");
            Ok(Json(LoginResponse { token, user, expires_at }))
        }
        LoginOutcome::Refused => {
            tracing::warn!(username = %req.username, "failed login");
            Err(ApiError::Unauthorized("wrong username or password"))
        }
        LoginOutcome::Throttled { until } => {
            tracing::debug!(username = %req.username, "login refused: throttled");
            let retry_after_s = ((until.millis() - state.clock.now().millis()).max(1) as u64).div_ceil(1000);
            Err(ApiError::TooManyRequests {
                retry_after_s,
                message: format!(
                    "Слишком много неудачных попыток входа. Повторите через {} мин.",
                    retry_after_s.div_ceil(60)
                ),
            })
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    summary = "End the session of the token sent",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out; the token no longer works"),
        Unauthenticated,
    )
)]
async fn logout(
    State(state): State<AppState>,
    _user: User,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    super::logout(&state, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/auth/me",
    operation_id = "auth_me",
    tag = "auth",
    summary = "Who the bearer token belongs to",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The logged-in user", body = User),
        Unauthenticated,
    )
)]
async fn me(user: User) -> Json<User> {
    Json(user)
}
