//! Login, logout and "who am I" endpoints, and the extractors that let a request in by its
//! bearer token: the signed-in [`User`] and the role extractors.

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{LoginOutcome, Role, Sessions, User, user_from_token};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::clock::Timestamp;
use crate::error::responses::Unauthenticated;
use crate::error::{ApiError, ApiJson, ErrorBody, within_length};

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        Sessions { store: state.store.clone(), clock: state.clock.clone(), session_hours: state.settings.session_hours }
    }
}

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
    State(sessions): State<Sessions>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // Longer cannot be anyone's: refused before it is counted or hashed.
    within_length("username", Some(&req.username), 64)?;
    within_length("password", Some(&req.password), 1024)?;
    match super::login(&sessions, &req.username, &req.password, client).await? {
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
            let retry_after_s = ((until.millis() - sessions.clock.now().millis()).max(1) as u64).div_ceil(1000);
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
    State(sessions): State<Sessions>,
    _user: User,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    super::logout(&sessions, &token).await?;
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

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer_from(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The signed-in user of a request; a request without a valid token is refused with 401.
impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        user_from_token(&Sessions::from_ref(state), bearer_from(&parts.headers)).await
    }
}

/// Extractors that let a handler in only for some roles. They read the token alone, so a role
/// that may not call an endpoint is refused with 403 before the body is read, whatever the body
/// is (SPEC §6): a handler takes one of them instead of [`User`], ahead of its body extractor.
macro_rules! role_extractors {
    ($($(#[$doc:meta])* $name:ident => |$user:ident| $check:expr;)+) => {$(
        $(#[$doc])*
        pub struct $name(pub User);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let $user = User::from_request_parts(parts, state).await?;
                $check?;
                Ok(Self($user))
            }
        }
    )+};
}

role_extractors! {
    /// Operators and every role above ("operator+" in SPEC §5).
    OperatorPlus => |user| user.require_at_least(Role::Operator);
    /// Dispatchers, supervisors and admins ("dispatcher+").
    DispatcherPlus => |user| user.require_at_least(Role::Dispatcher);
    /// Supervisors and admins ("supervisor+").
    SupervisorPlus => |user| user.require_at_least(Role::Supervisor);
    /// Operators, and admins who may do everything ("operator").
    OperatorOnly => |user| user.require_one_of(&[Role::Operator]);
    /// Dispatchers, and admins ("dispatcher").
    DispatcherOnly => |user| user.require_one_of(&[Role::Dispatcher]);
    /// Admins ("admin").
    AdminOnly => |user| user.require_one_of(&[Role::Admin]);
}

/// The raw bearer token of a request, for logging out.
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        bearer_from(&parts.headers).map(|t| BearerToken(t.to_string())).ok_or_else(ApiError::login_required)
    }
}
