//! The HTTP application: shared state, the router, and [`run`], which `serve` and the tests
//! both use to start the service.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::clock::Clock;
use crate::config::Settings;
use crate::error::ApiError;
use crate::escalation::ack_link::AckLinks;
use crate::escalation::mail::Mailer;
use crate::escalation::policy::{DEFAULT_POLICIES, Policies};
use crate::escalation::worker::Worker;
use crate::ivr;
use crate::live::{self, Live};
use crate::store::Store;
use crate::{
    auth, calls, connection, crews, demo, escalation, lifecycle, metrics, outages, outbound, queue, reception,
    settlements, telephony, tickets,
};

/// Every JSON request body is refused above this size (SPEC §6); CSV imports have their own limit.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach. Cheap to clone: the store is a pool handle, the rest is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    /// What a call webhook's step needs (the store, the checked IVR flow, settings, policies,
    /// the clock), built once here so the call domain never sees the whole app.
    pub calls: calls::CallContext,
    /// Fans committed events out to live clients.
    pub live: Live,
    /// Checked escalation policies; an escalation copies the one it starts under.
    pub policies: Arc<Policies>,
    /// Signs and checks the acknowledgement links in e-mails.
    pub ack_links: AckLinks,
    /// The loops that run beside the requests (lease reaper, escalation worker, retention).
    pub background: Arc<Background>,
    /// This process' counters and histograms, served at /metrics.
    pub telemetry: Arc<metrics::Telemetry>,
    /// What the internet reception's endpoints and pages need.
    pub reception: reception::ReceptionContext,
}

impl FromRef<AppState> for reception::ReceptionContext {
    fn from_ref(state: &AppState) -> Self {
        state.reception.clone()
    }
}

/// The settings as a substate, for extractors that read them without knowing the app
/// ([`crate::client_addr::ClientAddr`]).
impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}

/// Tasks started with the app and stopped with it.
#[derive(Default)]
pub struct Background(std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>);

impl Background {
    fn add(&self, task: tokio::task::JoinHandle<()>) {
        self.0.lock().expect("background task list").push(task);
    }
    /// Stops them; what they were doing is in the database, to be picked up on the next start.
    pub fn stop(&self) {
        for task in self.0.lock().expect("background task list").drain(..) {
            task.abort();
        }
    }
}

impl AppState {
    /// Opens and migrates the database, loads reference data into an empty one and creates
    /// the bootstrap admin: everything `serve` needs before it takes a request.
    pub async fn prepare(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let (flow, source) = ivr::load(settings.scripts_dir.as_deref())?;
        let policies = Arc::new(load_policies(settings.escalation_policies.as_deref())?);
        tracing::info!(source, nodes = flow.nodes.len(), "IVR scripts checked");
        let (content, source) = reception::Content::load(settings.scripts_dir.as_deref())?;
        tracing::info!(source, "internet reception texts checked");
        let store = Store::open(settings.database_url.expose()).await?;
        if let Some(count) = settlements::load_defaults(&store).await? {
            tracing::info!(count, "loaded the bundled settlements into an empty database");
        }
        if settings.demo {
            if let Some(count) = demo::load_if_pristine(&store, &settings.timezone, clock.now()).await? {
                tracing::info!(count, "loaded demo planned outages and applications (HOTLINE_DEMO=off to skip)");
            }
        }
        if let Some((name, password)) = &settings.bootstrap_admin {
            if auth::bootstrap_admin(&store, name, password.expose(), clock.now()).await? {
                tracing::info!(username = %name, "created the bootstrap admin");
            }
        }
        let live = Live::start(store.clone()).await?;
        let ack_links = AckLinks::load(&store).await?;
        let settings = Arc::new(settings);
        let mailer = Mailer::from_settings(&settings)?;
        match &settings.smtp_url {
            Some(_) => tracing::info!("e-mail goes out through HOTLINE_SMTP_URL"),
            None => {
                tracing::info!(dir = %settings.mail_dir.display(), "no HOTLINE_SMTP_URL: e-mail is written as .eml files")
            }
        }
        let telemetry = Arc::new(metrics::Telemetry::default());
        let background = Arc::new(Background::default());
        background.add(queue::start_lease_reaper(store.clone(), clock.clone()));
        let worker = Worker {
            store: store.clone(),
            settings: settings.clone(),
            clock: clock.clone(),
            links: ack_links.clone(),
            channels: vec![Arc::new(mailer)],
            policies: policies.clone(),
            telemetry: telemetry.clone(),
        };
        background.add(worker.start());
        background.add(lifecycle::start(store.clone(), settings.retention, clock.clone()));
        if let Some(api) = &settings.outbound {
            background
                .add(outbound::dialer::Dialer::from_settings(api, &settings, store.clone(), clock.clone())?.start());
            tracing::info!(provider = api.dialect().as_str(), "calls are placed through the provider's REST API");
        }
        let hints = Arc::new(settlements::NameHints::default());
        let replay_dictionaries =
            calls::replays::Dictionaries::new(&flow, &settings, &hints.keep(store.settlement_names().await?));
        for dictionary in replay_dictionaries.each() {
            store.keep_answer_dictionary(dictionary, clock.now()).await?;
        }
        let calls = calls::CallContext {
            store: store.clone(),
            flow: Arc::new(flow),
            settings: settings.clone(),
            policies: policies.clone(),
            clock: clock.clone(),
            hints,
            replay_dictionaries: Arc::new(replay_dictionaries),
        };
        let reception = reception::ReceptionContext {
            store: store.clone(),
            clock: clock.clone(),
            content: Arc::new(content),
            ordering: settings.queue_ordering.clone(),
            incident_window_s: settings.incident_window_s,
            policies: policies.clone(),
            timezone: settings.timezone.clone(),
        };
        Ok(Self { store, settings, clock, calls, live, policies, ack_links, background, telemetry, reception })
    }
}

/// The escalation policies: the operator's file if named, else the built-in ones; any problem
/// stops the start with all of them listed.
fn load_policies(path: Option<&std::path::Path>) -> anyhow::Result<Policies> {
    let (text, source) = match path {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("HOTLINE_ESCALATION_POLICIES: cannot read {}: {e}", path.display()))?,
            path.display().to_string(),
        ),
        None => (DEFAULT_POLICIES.to_string(), "built-in policies".to_string()),
    };
    Policies::parse(&text).map_err(|problems| {
        anyhow::anyhow!("the escalation policies in {source} have problems:\n{}", problems.join("\n"))
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(auth::http::router())
        .merge(tickets::http::router())
        .merge(calls::http::router())
        .merge(settlements::http::router())
        .merge(queue::http::router())
        .merge(escalation::http::router())
        .merge(escalation::ack_page::router())
        .merge(crews::http::router())
        .merge(live::http::router())
        .merge(metrics::http::router())
        .merge(outages::http::router())
        .merge(connection::http::router())
        .merge(lifecycle::http::router())
        .merge(reception::http::router())
        .merge(reception::pages::router())
        .merge(
            telephony::http::router().route_layer(axum::middleware::from_fn_with_state(
                state.telemetry.clone(),
                metrics::http::track_webhooks,
            )),
        )
        .merge(crate::openapi::router())
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // SPEC §6, on every response whatever produced it (handlers, refused extractors, the
        // fallback): no content sniffing; no referrer, so a page's URL (an acknowledgement
        // link's token) never leaves with a click; nothing stored by caches unless a response
        // says otherwise (the console's files do: they are revalidated by entity tag; no /api
        // response does); and a policy for every HTML page that has none of its own.
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, html_policy))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // URIs may carry a caller's number or a token: masked before they are logged.
                    let uri = crate::telemetry::loggable_uri(req.uri());
                    tracing::info_span!("http", method = %req.method(), uri)
                })
                // A line per request would be most of the log in a storm (thousands a second):
                // `RUST_LOG=info,tower_http=debug` shows them; server errors are logged anyway.
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// What an HTML page without a policy of its own (the acknowledgement pages) may do: show
/// itself with its inline styles and post its own form; no script, nothing from elsewhere, and
/// never inside another site's frame.
pub const HTML_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

fn html_policy(response: &Response) -> Option<HeaderValue> {
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    html.then(|| HeaderValue::from_static(HTML_POLICY))
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let bound = listener.local_addr()?;
    settings.check_exposure(bound)?;
    let state = AppState::prepare(settings, Clock::system()).await?;
    let store = state.store.clone();
    let live = state.live.clone();
    let background = state.background.clone();
    tracing::info!(%bound, backend = ?store.backend(), "hotline is serving");
    let shutdown = async move {
        shutdown.await;
        live.stop();
    };
    // The peer address goes with each request: limits key on it (see `client_addr`).
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    background.stop();
    store.close().await;
    tracing::info!("hotline stopped");
    Ok(())
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "Liveness: the process answers",
    responses((status = 200, description = "Always `ok`", body = String, content_type = "text/plain"))
)]
async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "Readiness: the database is reachable and migrated",
    responses(
        (status = 200, description = "Ready", body = serde_json::Value, example = json!({"status": "ready"})),
        (status = 503, description = "Not ready, with the reason", body = serde_json::Value,
            example = json!({"status": "not ready", "reason": "the database is unreachable or not migrated"})),
    )
)]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    // A database that does not answer at all must not hold a load balancer's probe either.
    let ready = tokio::time::timeout(std::time::Duration::from_secs(2), state.store.is_ready()).await;
    if ready == Ok(true) {
        (StatusCode::OK, Json(serde_json::json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "not ready", "reason": "the database is unreachable or not migrated"})),
        )
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> impl IntoResponse {
    let body = serde_json::json!({"error": {"code": "method_not_allowed", "message": "this endpoint does not take that method"}});
    (StatusCode::METHOD_NOT_ALLOWED, Json(body))
}
