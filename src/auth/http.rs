//! Login, logout and "who am I" endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{BearerToken, User};
use crate::app::AppState;
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiJson};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    user: User,
    expires_at: Timestamp,
}

async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    match super::login(&state, &req.username, &req.password).await? {
        Some((token, user, expires_at)) => {
            tracing::info!(username = %user.username, role = %user.role, "logged in");
            Ok(Json(LoginResponse { token, user, expires_at }))
        }
        None => {
            tracing::warn!(username = %req.username, "failed login");
            Err(ApiError::Unauthorized("wrong username or password"))
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    _user: User,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    super::logout(&state, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(user: User) -> Json<User> {
    Json(user)
}
