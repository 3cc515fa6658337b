//! The webhook endpoints of SPEC §3: one set of handlers serves every [`Provider`], verifying the
//! signature before reading anything, normalising the request and rendering the call step's
//! answer in the provider's dialect.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Required, ResponseBuilder, ResponsesBuilder};

use super::jambonz::Jambonz;
use super::twilio::Twilio;
use super::{Action, Inbound, Provider, Webhook};
use crate::app::{AppState, BODY_LIMIT};
use crate::calls::{self, StepKind, StepNumber};
use crate::config::Settings;
use crate::error::responses::WebhookErrors;
use crate::error::{ApiError, read_body};
use crate::ivr::Phrases;
use crate::store::StoredAnswer;

/// Every dialect at the same four URLs under `/telephony/{dialect}/` (the paths are spelled out:
/// the OpenAPI test reads them from here).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/telephony/twilio/voice", post(voice::<Twilio>))
        .route("/telephony/twilio/step/{seq}", post(step::<Twilio>))
        .route("/telephony/twilio/status", post(status::<Twilio>))
        .route("/telephony/twilio/wait", post(wait::<Twilio>))
        .route("/telephony/jambonz/voice", post(voice::<Jambonz>))
        .route("/telephony/jambonz/step/{seq}", post(step::<Jambonz>))
        .route("/telephony/jambonz/status", post(status::<Jambonz>))
        .route("/telephony/jambonz/wait", post(wait::<Jambonz>))
}

fn respond(stored: StoredAnswer) -> Response {
    ([(CONTENT_TYPE, stored.content_type)], stored.body).into_response()
}

/// How long a voice webhook may wait for its step before the caller gets the fallback instead:
/// providers give up on a webhook after about 15 s, and until then the caller hears silence.
const STEP_DEADLINE: Duration = Duration::from_secs(8);

/// What a caller hears when the step cannot be carried out (the database is down, or the step
/// failed): it needs nothing but the settings and the phrases loaded at start, so it is said
/// whatever else is broken (SPEC §6).
fn fallback_actions(phrases: &Phrases, settings: &Settings) -> Vec<Action> {
    let voice = super::Voice { language: "ru-RU".into(), name: None };
    let say = |text: &str| Action::Say { text: text.into(), voice: voice.clone() };
    let mut actions = vec![say(&phrases.unavailable)];
    match &settings.duty_phone {
        Some(duty) => {
            actions.push(say(&phrases.unavailable_duty));
            actions.push(Action::Dial { target: duty.clone(), caller_id: None, timeout_s: 30, action_url: None });
        }
        None => {
            actions.push(say(&phrases.unavailable_later));
            actions.push(Action::Hangup);
        }
    }
    actions
}

/// Runs a voice webhook's work within [`STEP_DEADLINE`]; a refusal of the request itself (a bad
/// webhook) stands, but a failure of ours is never the caller's to hear as a provider error.
async fn or_fallback<P: Provider>(
    state: &AppState,
    work: impl Future<Output = Result<StoredAnswer, ApiError>>,
) -> Result<Response, ApiError> {
    let failure = match tokio::time::timeout(STEP_DEADLINE, work).await {
        Ok(Ok(stored)) => return Ok(respond(stored)),
        Ok(Err(e @ (ApiError::Internal(_) | ApiError::Unavailable(_)))) => format!("{:#}", anyhow::Error::new(e)),
        Ok(Err(refused)) => return Err(refused),
        Err(_) => format!("no answer within {} s", STEP_DEADLINE.as_secs()),
    };
    tracing::error!(error = %failure, "a voice webhook failed: the caller gets the fallback message");
    let phrases = &state.calls.flow.phrases;
    Ok(respond(render::<P>(&state.settings, phrases, &fallback_actions(phrases, &state.settings))))
}

/// What provider `P` is sent for a step's actions. A step asking for something the dialect
/// cannot do (jambonz has no verb that records to a URL) gets a stand-in answer instead.
pub fn render<P: Provider>(settings: &Settings, phrases: &Phrases, actions: &[Action]) -> StoredAnswer {
    if actions.iter().all(P::supports) {
        P::render(settings, actions)
    } else {
        P::render(settings, &unsupported_fallback(phrases))
    }
}

/// What a jambonz caller hears where a script asks for something jambonz cannot do (the default
/// menus never do: they ask `recording_supported` first).
fn unsupported_fallback(phrases: &Phrases) -> Vec<Action> {
    vec![
        Action::Say { text: phrases.unsupported.clone(), voice: super::Voice { language: "ru-RU".into(), name: None } },
        Action::Hangup,
    ]
}

fn bad_webhook(message: String) -> ApiError {
    ApiError::BadRequest { code: "bad_webhook", message }
}

fn refused(e: super::SignatureError) -> ApiError {
    tracing::warn!(error = %e, "webhook refused");
    ApiError::Forbidden(format!("webhook signature check failed: {e}"))
}

/// Reads, verifies and parses a webhook of dialect `P`; nothing is touched before the signature holds.
async fn inbound<P: Provider>(state: &AppState, req: Request) -> Result<Inbound, ApiError> {
    let headers = req.headers().clone();
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let body = read_body(req, BODY_LIMIT).await?;
    let webhook =
        Webhook { path_and_query: &path_and_query, headers: &headers, body: &body, received_at: state.clock.now() };
    P::verify(&state.settings, &webhook).map_err(refused)?;
    let mut inbound = P::parse(&webhook).map_err(bad_webhook)?;
    inbound.placed = placed_call(&path_and_query);
    Ok(inbound)
}

/// The request of a call the hotline placed, from the query of the URL the provider was given.
fn placed_call(path_and_query: &str) -> Option<String> {
    let (_, query) = path_and_query.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == crate::outbound::QUERY)
        .map(|(_, id)| id.into_owned())
        .filter(|id| !id.is_empty())
}

/// The number's voice URL: a call arrives.
async fn voice<P: Provider>(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    answer_step::<P>(&state, StepKind::Entry, req).await
}

/// A URL an earlier answer issued for step `seq` (a gather, record or queue result).
async fn step<P: Provider>(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let seq: StepNumber = seq.parse().map_err(bad_webhook)?;
    answer_step::<P>(&state, StepKind::Step(seq), req).await
}

async fn answer_step<P: Provider>(state: &AppState, kind: StepKind, req: Request) -> Result<Response, ApiError> {
    let inbound = inbound::<P>(state, req).await?;
    let step = calls::handle_step(&state.calls, P::DIALECT, kind, &inbound, render::<P>);
    or_fallback::<P>(state, step).await
}

/// A caller waiting in the queue: what to play meanwhile.
async fn wait<P: Provider>(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let inbound = inbound::<P>(&state, req).await?;
    let wait = async {
        Ok(render::<P>(
            &state.settings,
            &state.calls.flow.phrases,
            &calls::handle_wait(&state.calls, P::DIALECT, &inbound).await?,
        ))
    };
    or_fallback::<P>(&state, wait).await
}

/// A call status change. 200 as for every webhook whose effects are committed (SPEC §3);
/// providers read no body. With the database down the callback is accepted all the same (SPEC
/// §6): a provider retrying it would only add load, and the call's end is also seen on its next
/// webhook or the queue's reaper.
async fn status<P: Provider>(State(state): State<AppState>, req: Request) -> Result<StatusCode, ApiError> {
    let inbound = inbound::<P>(&state, req).await?;
    match tokio::time::timeout(STEP_DEADLINE, calls::handle_status(&state.calls, P::DIALECT, &inbound)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, call = %inbound.call_id, "a status callback could not be recorded"),
        Err(_) => tracing::error!(call = %inbound.call_id, "a status callback timed out and was not recorded"),
    }
    Ok(StatusCode::OK)
}

/// The telephony operations of the OpenAPI document: one description per kind of webhook,
/// generated for each dialect from its [`super::WebhookDoc`].
pub struct WebhookPaths;

impl Modify for WebhookPaths {
    fn modify(&self, openapi: &mut OpenApi) {
        describe::<Twilio>(openapi);
        describe::<Jambonz>(openapi);
    }
}

/// A webhook every dialect has, as the OpenAPI document describes it.
struct WebhookKind {
    /// After `/telephony/{dialect}/`.
    path: &'static str,
    /// After `{dialect}_` in the operation id.
    operation: &'static str,
    /// After `{provider}: ` in the summary.
    summary: &'static str,
    /// The 200 carries what the caller hears next (a status callback's has no body).
    answers: bool,
}

const WEBHOOK_KINDS: [WebhookKind; 4] = [
    WebhookKind {
        path: "voice",
        operation: "entry",
        summary: "a call arrives; answer with the first IVR step",
        answers: true,
    },
    WebhookKind {
        path: "step/{seq}",
        operation: "step",
        summary: "the caller's input to an IVR step; answer with the next",
        answers: true,
    },
    WebhookKind {
        path: "status",
        operation: "status",
        summary: "a call status change (ringing, answered, completed)",
        answers: false,
    },
    WebhookKind {
        path: "wait",
        operation: "wait",
        summary: "a caller waiting for an operator; answer with what to play meanwhile",
        answers: true,
    },
];

fn describe<P: Provider>(openapi: &mut OpenApi) {
    let doc = P::API_DOC;
    let dialect = P::DIALECT.as_str();
    for kind in WEBHOOK_KINDS {
        let mut operation = OperationBuilder::new()
            .tag("telephony")
            .summary(Some(format!("{}: {}", doc.provider, kind.summary)))
            .operation_id(Some(format!("{dialect}_{}", kind.operation)));
        if kind.path.contains("{seq}") {
            let step_number = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(1))
                .maximum(Some(StepNumber::MAX));
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("seq")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The step number the previous answer asked to come back to"))
                    .schema(Some(step_number)),
            );
        }
        let signature = ParameterBuilder::new()
            .name(P::SIGNATURE_HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(doc.signature_checked))
            .schema(Some(ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))));
        let request = RequestBodyBuilder::new()
            .description(Some(doc.request_description))
            .content(doc.request_content_type, ContentBuilder::new().schema(Some((doc.request_schema)())).build())
            .required(Some(Required::True));
        let success = if kind.answers {
            ResponseBuilder::new()
                .description(format!("What the caller hears next, {}", doc.answer_format))
                .content(doc.answer_content_type, ContentBuilder::new().schema(Some((doc.answer_schema)())).build())
        } else {
            ResponseBuilder::new().description("Recorded (an empty body)")
        };
        let operation = operation.parameter(signature).request_body(Some(request.build())).responses(
            ResponsesBuilder::new()
                .response("200", success.build())
                .responses_from_into_responses::<WebhookErrors>()
                .build(),
        );
        openapi.paths.add_path_operation(
            format!("/telephony/{dialect}/{}", kind.path),
            vec![HttpMethod::Post],
            operation.build(),
        );
    }
}
