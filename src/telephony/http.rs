//! The webhook endpoints of SPEC §3: each dialect verifies the signature before reading
//! anything, normalises the request and renders the call step's answer in its own format.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{Action, Dialect, Inbound, jambonz, twilio};
use crate::app::{AppState, BODY_LIMIT};
use crate::calls::{self, StepKind, StepNumber};
use crate::config::Settings;
use crate::error::{ApiError, ErrorBody, read_body};
use crate::ivr::Phrases;
use crate::store::StoredAnswer;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/telephony/twilio/voice", post(twilio_entry))
        .route("/telephony/twilio/step/{seq}", post(twilio_step))
        .route("/telephony/twilio/status", post(twilio_status))
        .route("/telephony/twilio/wait", post(twilio_wait))
        .route("/telephony/jambonz/voice", post(jambonz_entry))
        .route("/telephony/jambonz/step/{seq}", post(jambonz_step))
        .route("/telephony/jambonz/status", post(jambonz_status))
        .route("/telephony/jambonz/wait", post(jambonz_wait))
}

fn answer(stored: StoredAnswer) -> Response {
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
async fn or_fallback(
    state: &AppState,
    render: fn(&Settings, &Phrases, &[Action]) -> StoredAnswer,
    work: impl Future<Output = Result<StoredAnswer, ApiError>>,
) -> Result<Response, ApiError> {
    let failure = match tokio::time::timeout(STEP_DEADLINE, work).await {
        Ok(Ok(stored)) => return Ok(answer(stored)),
        Ok(Err(e @ (ApiError::Internal(_) | ApiError::Unavailable(_)))) => format!("{:#}", anyhow::Error::new(e)),
        Ok(Err(refused)) => return Err(refused),
        Err(_) => format!("no answer within {} s", STEP_DEADLINE.as_secs()),
    };
    tracing::error!(error = %failure, "a voice webhook failed: the caller gets the fallback message");
    let phrases = &state.calls.flow.phrases;
    Ok(answer(render(&state.settings, phrases, &fallback_actions(phrases, &state.settings))))
}

fn twilio_answer(_: &Settings, _: &Phrases, actions: &[Action]) -> StoredAnswer {
    StoredAnswer { content_type: "text/xml; charset=utf-8".into(), body: twilio::render(actions) }
}

/// What jambonz gets for a step's actions, spoken through the configured TTS vendor.
pub fn jambonz_answer(settings: &Settings, phrases: &Phrases, actions: &[Action]) -> StoredAnswer {
    let tts = &settings.jambonz_tts;
    // jambonz has no verb that records to a URL: such a step goes to an operator instead.
    if actions.iter().any(|a| !jambonz::supports(a)) {
        let fallback = unsupported_fallback(phrases);
        return StoredAnswer {
            content_type: "application/json".into(),
            body: jambonz::render(&fallback, tts).to_string(),
        };
    }
    StoredAnswer { content_type: "application/json".into(), body: jambonz::render(actions, tts).to_string() }
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

/// Reads, verifies and parses a Twilio webhook; nothing is touched before the signature holds.
async fn twilio_inbound(state: &AppState, req: Request) -> Result<(Inbound, String), ApiError> {
    let headers = req.headers().clone();
    // The URL Twilio signed is ours, as configured: never trust the Host header behind a proxy.
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let body = read_body(req, BODY_LIMIT).await?;
    let params = twilio::parse_form(&body);
    if let Some(token) = &state.settings.twilio_auth_token {
        let url = format!("{}{path}", state.settings.public_url);
        let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
        twilio::verify(token.expose(), &url, &params, signature).map_err(refused)?;
    }
    let inbound = twilio::inbound(&params).map_err(bad_webhook)?;
    Ok((inbound, String::from_utf8_lossy(&body).into_owned()))
}

async fn jambonz_inbound(state: &AppState, req: Request) -> Result<(Inbound, String), ApiError> {
    let headers = req.headers().clone();
    let body = read_body(req, BODY_LIMIT).await?;
    if let Some(secret) = &state.settings.jambonz_secret {
        let signature = headers.get("jambonz-signature").and_then(|v| v.to_str().ok());
        let now = state.clock.now().millis() / 1000;
        jambonz::verify(secret.expose(), signature, &body, now).map_err(refused)?;
    }
    let inbound = jambonz::inbound(&body).map_err(bad_webhook)?;
    Ok((inbound, String::from_utf8_lossy(&body).into_owned()))
}

#[utoipa::path(
    post,
    path = "/telephony/twilio/voice",
    tag = "telephony",
    summary = "Twilio: a call arrives; answer with the first IVR step",
    params(("X-Twilio-Signature" = Option<String>, Header, description = "Checked when a Twilio auth token is configured")),
    request_body(
        content = std::collections::HashMap<String, String>,
        content_type = "application/x-www-form-urlencoded",
        description = "Twilio's webhook parameters (CallSid, From, To, CallStatus, Digits, SpeechResult, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as TwiML", body = String, content_type = "text/xml"),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn twilio_entry(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (inbound, raw) = twilio_inbound(&state, req).await?;
    let step = calls::handle_step(&state.calls, Dialect::Twilio, StepKind::Entry, &inbound, &raw, twilio_answer);
    or_fallback(&state, twilio_answer, step).await
}

#[utoipa::path(
    post,
    path = "/telephony/twilio/step/{seq}",
    tag = "telephony",
    summary = "Twilio: the caller's input to an IVR step; answer with the next",
    params(("seq" = u32, Path, minimum = 1, maximum = 100_000, description = "The step number the previous answer asked to come back to"), ("X-Twilio-Signature" = Option<String>, Header, description = "Checked when a Twilio auth token is configured")),
    request_body(
        content = std::collections::HashMap<String, String>,
        content_type = "application/x-www-form-urlencoded",
        description = "Twilio's webhook parameters (CallSid, From, To, CallStatus, Digits, SpeechResult, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as TwiML", body = String, content_type = "text/xml"),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn twilio_step(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let seq: StepNumber = seq.parse().map_err(bad_webhook)?;
    let (inbound, raw) = twilio_inbound(&state, req).await?;
    let step = calls::handle_step(&state.calls, Dialect::Twilio, StepKind::Step(seq), &inbound, &raw, twilio_answer);
    or_fallback(&state, twilio_answer, step).await
}

#[utoipa::path(
    post,
    path = "/telephony/twilio/status",
    tag = "telephony",
    summary = "Twilio: a call status change (ringing, answered, completed)",
    params(("X-Twilio-Signature" = Option<String>, Header, description = "Checked when a Twilio auth token is configured")),
    request_body(
        content = std::collections::HashMap<String, String>,
        content_type = "application/x-www-form-urlencoded",
        description = "Twilio's webhook parameters (CallSid, From, To, CallStatus, Digits, SpeechResult, ...)"
    ),
    responses(
        (status = 200, description = "Recorded (an empty body)"),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn twilio_status(State(state): State<AppState>, req: Request) -> Result<StatusCode, ApiError> {
    let (inbound, raw) = twilio_inbound(&state, req).await?;
    record_status(&state, Dialect::Twilio, &inbound, &raw).await
}

/// 200 as for every webhook whose effects are committed (SPEC §3); providers read no body. With
/// the database down the callback is accepted all the same (SPEC §6): a provider retrying it
/// would only add load, and the call's end is also seen on its next webhook or the queue's reaper.
async fn record_status(
    state: &AppState,
    dialect: Dialect,
    inbound: &Inbound,
    raw: &str,
) -> Result<StatusCode, ApiError> {
    match tokio::time::timeout(STEP_DEADLINE, calls::handle_status(&state.calls, dialect, inbound, raw)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, call = %inbound.call_id, "a status callback could not be recorded"),
        Err(_) => tracing::error!(call = %inbound.call_id, "a status callback timed out and was not recorded"),
    }
    Ok(StatusCode::OK)
}

#[utoipa::path(
    post,
    path = "/telephony/twilio/wait",
    tag = "telephony",
    summary = "Twilio: a caller waiting for an operator; answer with what to play meanwhile",
    params(("X-Twilio-Signature" = Option<String>, Header, description = "Checked when a Twilio auth token is configured")),
    request_body(
        content = std::collections::HashMap<String, String>,
        content_type = "application/x-www-form-urlencoded",
        description = "Twilio's webhook parameters (CallSid, From, To, CallStatus, Digits, SpeechResult, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as TwiML", body = String, content_type = "text/xml"),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn twilio_wait(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (inbound, raw) = twilio_inbound(&state, req).await?;
    let wait = async {
        Ok(twilio_answer(
            &state.settings,
            &state.calls.flow.phrases,
            &calls::handle_wait(&state.calls, Dialect::Twilio, &inbound, &raw).await?,
        ))
    };
    or_fallback(&state, twilio_answer, wait).await
}

#[utoipa::path(
    post,
    path = "/telephony/jambonz/voice",
    tag = "telephony",
    summary = "jambonz: a call arrives; answer with the first IVR step",
    params(("jambonz-signature" = Option<String>, Header, description = "Checked when a jambonz secret is configured")),
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "jambonz's webhook payload (call_sid, from, to, call_status, digits, speech, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as jambonz verbs", body = serde_json::Value),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn jambonz_entry(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (inbound, raw) = jambonz_inbound(&state, req).await?;
    let step = calls::handle_step(&state.calls, Dialect::Jambonz, StepKind::Entry, &inbound, &raw, jambonz_answer);
    or_fallback(&state, jambonz_answer, step).await
}

#[utoipa::path(
    post,
    path = "/telephony/jambonz/step/{seq}",
    tag = "telephony",
    summary = "jambonz: the caller's input to an IVR step; answer with the next",
    params(("seq" = u32, Path, minimum = 1, maximum = 100_000, description = "The step number the previous answer asked to come back to"), ("jambonz-signature" = Option<String>, Header, description = "Checked when a jambonz secret is configured")),
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "jambonz's webhook payload (call_sid, from, to, call_status, digits, speech, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as jambonz verbs", body = serde_json::Value),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn jambonz_step(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let seq: StepNumber = seq.parse().map_err(bad_webhook)?;
    let (inbound, raw) = jambonz_inbound(&state, req).await?;
    let step = calls::handle_step(&state.calls, Dialect::Jambonz, StepKind::Step(seq), &inbound, &raw, jambonz_answer);
    or_fallback(&state, jambonz_answer, step).await
}

#[utoipa::path(
    post,
    path = "/telephony/jambonz/status",
    tag = "telephony",
    summary = "jambonz: a call status change (ringing, answered, completed)",
    params(("jambonz-signature" = Option<String>, Header, description = "Checked when a jambonz secret is configured")),
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "jambonz's webhook payload (call_sid, from, to, call_status, digits, speech, ...)"
    ),
    responses(
        (status = 200, description = "Recorded (an empty body)"),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn jambonz_status(State(state): State<AppState>, req: Request) -> Result<StatusCode, ApiError> {
    let (inbound, raw) = jambonz_inbound(&state, req).await?;
    record_status(&state, Dialect::Jambonz, &inbound, &raw).await
}

#[utoipa::path(
    post,
    path = "/telephony/jambonz/wait",
    tag = "telephony",
    summary = "jambonz: a caller waiting for an operator; answer with what to play meanwhile",
    params(("jambonz-signature" = Option<String>, Header, description = "Checked when a jambonz secret is configured")),
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "jambonz's webhook payload (call_sid, from, to, call_status, digits, speech, ...)"
    ),
    responses(
        (status = 200, description = "What the caller hears next, as jambonz verbs", body = serde_json::Value),
        (status = 400, description = "The webhook lacks what a call step needs", body = ErrorBody),
        (status = 403, description = "The signature does not hold", body = ErrorBody),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
    )
)]
async fn jambonz_wait(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (inbound, raw) = jambonz_inbound(&state, req).await?;
    let wait = async {
        Ok(jambonz_answer(
            &state.settings,
            &state.calls.flow.phrases,
            &calls::handle_wait(&state.calls, Dialect::Jambonz, &inbound, &raw).await?,
        ))
    };
    or_fallback(&state, jambonz_answer, wait).await
}
