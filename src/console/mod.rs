//! The web console for operators, dispatchers and supervisors: a page and its scripts, built into the binary and served at `/`.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;
use crate::error::responses::NotFound;

/// A file of the console as it is served.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page and every script and style it loads; nothing comes from anywhere else.
const ASSETS: &[Asset] = &[
    Asset { name: "index.html", content_type: "text/html; charset=utf-8", body: include_str!("assets/index.html") },
    Asset { name: "console.css", content_type: "text/css; charset=utf-8", body: include_str!("assets/console.css") },
    Asset { name: "app.js", content_type: JS, body: include_str!("assets/app.js") },
    Asset { name: "api.js", content_type: JS, body: include_str!("assets/api.js") },
    Asset { name: "ru.js", content_type: JS, body: include_str!("assets/ru.js") },
    Asset { name: "ui.js", content_type: JS, body: include_str!("assets/ui.js") },
    Asset { name: "operator.js", content_type: JS, body: include_str!("assets/operator.js") },
    Asset { name: "dispatcher.js", content_type: JS, body: include_str!("assets/dispatcher.js") },
    Asset { name: "supervisor.js", content_type: JS, body: include_str!("assets/supervisor.js") },
];

/// Each asset's entity tag: a hash of its contents, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS.iter().map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body.as_bytes()))[..16])).collect()
});

/// Scripts, styles and API calls from this server only; no inline script, no framing.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                      form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(page)).route("/console/{file}", get(asset))
}

#[utoipa::path(
    get,
    path = "/",
    tag = "console",
    summary = "The web console (HTML): operators, dispatchers and supervisors log in here",
    responses(
        (status = 200, description = "The console page", body = String, content_type = "text/html"),
        (status = 304, description = "Unchanged since the copy the browser holds"),
    )
)]
async fn page(headers: HeaderMap) -> Response {
    serve(0, &headers)
}

#[utoipa::path(
    get,
    path = "/console/{file}",
    tag = "console",
    summary = "A script or style sheet of the console",
    params(("file" = String, Path, description = "e.g. `app.js`, `console.css`")),
    responses(
        (status = 200, description = "The file, JavaScript or CSS", body = String),
        (status = 304, description = "Unchanged since the copy the browser holds"),
        NotFound,
    )
)]
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.name == file && a.name != "index.html") {
        Some(index) => serve(index, &headers),
        None => ApiError::not_found(format!("console file '{file}'")).into_response(),
    }
}

/// The asset, or 304 when the browser's copy is current. `no-cache` makes the browser ask every
/// time, so a new release is picked up at once; the entity tag keeps that question cheap.
fn serve(index: usize, headers: &HeaderMap) -> Response {
    let asset = &ASSETS[index];
    let etag = &ETAGS[index];
    let common = [
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (ETAG, HeaderValue::from_str(etag).expect("a hex entity tag is a valid header")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
    ];
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, [(CONTENT_TYPE, HeaderValue::from_static(asset.content_type))], asset.body).into_response()
}
