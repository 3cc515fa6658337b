//! The one error type at the HTTP edge: a status, a stable code and a safe message in the JSON
//! shape of SPEC §5. Internal causes are logged once here and never sent to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::StoreError;

pub mod responses;

/// One bad row of an uploaded file, so the person fixing it knows where to look.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A limit is used up; `Retry-After` says when to come back.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    #[error("request body is larger than the limit")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Unprocessable { message: String, details: Vec<LineError> },
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest { code: "bad_request", message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Unprocessable { message: message.into(), details: Vec::new() }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }
    /// A file refused for its bad rows; nothing of it was stored.
    pub fn bad_rows(details: Vec<LineError>) -> Self {
        Self::Unprocessable {
            message: format!("the file has {} bad row(s); nothing was imported", details.len()),
            details,
        }
    }

    /// No valid bearer token on a request that needs one.
    pub fn login_required() -> Self {
        Self::Unauthorized("log in first: send Authorization: Bearer <token> from POST /api/auth/login")
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

// Public so the OpenAPI document describes the very type that is sent, not a copy that could
// drift from it. The doc comment below is published there.
/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail<'a> {
    /// Stable and machine-readable, e.g. `not_found`, `invalid`, `bad_query`.
    code: &'a str,
    /// For people; may change wording.
    message: String,
    /// Only on a refused file upload: each bad line.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [LineError],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(cause) | Self::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            _ => tracing::debug!(%status, error = %self, "request refused"),
        }
        let details = match &self {
            Self::Unprocessable { details, .. } => details.as_slice(),
            _ => &[],
        };
        let body = ErrorBody { error: ErrorDetail { code, message: self.to_string(), details } };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_s, .. } = &self {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, (*retry_after_s).max(1).into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(why) => Self::Conflict(why),
            StoreError::Invalid(why) => Self::invalid(why),
            StoreError::Unavailable(cause) => Self::Unavailable(cause.into()),
            StoreError::Database(cause) => Self::Internal(cause.into()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::invalid(format!("the JSON body does not fit: {}", e.body_text())),
            JsonRejection::JsonSyntaxError(e) => Self::BadRequest {
                code: "malformed_json",
                message: format!("the body is not valid JSON: {}", e.body_text()),
            },
            JsonRejection::MissingJsonContentType(_) => {
                Self::UnsupportedMediaType("expected Content-Type: application/json".into())
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::bad_request(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest { code: "bad_query", message: rejection.body_text() }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// `axum::Json` whose rejections come out in our error shape (400 malformed, 422 wrong types,
/// 413 too large, 415 wrong content type).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Query` with our error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// A free-text field as people type it: trimmed, not empty, at most `max` characters, and free
/// of NUL (which PostgreSQL refuses to store). One rule for every text field of the API.
pub fn required_text(field: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid(format!("{field} must not be empty")));
    }
    if text.contains('\0') {
        return Err(ApiError::invalid(format!("{field} must not contain NUL characters")));
    }
    if text.chars().count() > max {
        return Err(ApiError::invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(text.to_string())
}

/// An optional free-text field: absent or blank is `None`, anything else as [`required_text`].
pub fn optional_text(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    text.filter(|t| !t.trim().is_empty()).map(|t| required_text(field, t, max)).transpose()
}

/// A field that is not free text (an id, a time, a code) but has a documented length limit
/// (`maxLength` in the OpenAPI document): longer is refused with 422 before it is looked at.
pub fn within_length(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(ApiError::invalid(format!("{field} is longer than {max} characters")))
        }
        _ => Ok(()),
    }
}

/// A raw request body up to `limit` bytes, refused in our error shape when larger.
pub async fn read_body(req: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge)
}

/// The body of a CSV upload, read as text with the same size rules and error shape.
pub async fn csv_body(req: Request, limit: usize) -> Result<String, ApiError> {
    let bytes = read_body(req, limit).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_request("the file is not UTF-8 text"))
}

/// For optional JSON fields that may be null: tells `"field": null` (clear it) from no field at
/// all (leave it), with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(serde::Deserialize::deserialize(d)?))
}
