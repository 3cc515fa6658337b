//! The seam every telephony provider plugs into: what a dialect must know so that one set of
//! webhook handlers ([`super::http`]) serves it.

use axum::http::HeaderMap;
use utoipa::openapi::{RefOr, Schema};

use super::{Action, Dialect, Inbound, SignatureError};
use crate::clock::Timestamp;
use crate::config::Settings;
use crate::store::StoredAnswer;

/// A provider's webhook dialect: how it signs and phrases its webhooks (entry, step, queue wait
/// and status callbacks alike) and how it reads the answer to them.
///
/// Everything else (the call step, its idempotence, the step deadline and the fallback when the
/// database is down, body limits, the 400/403 refusals, the URLs `/telephony/{dialect}/voice`,
/// `step/{n}`, `wait` and `status`, the OpenAPI operations) is shared by every dialect. Another
/// dialect (FreeSWITCH mod_httapi's XML, Asterisk ARI through a small bridge posting webhooks)
/// is one more implementation of this trait, four routes in [`super::http::router`] and one
/// line in [`super::http::WebhookPaths`].
pub trait Provider: 'static {
    /// Names the dialect in URLs and call records.
    const DIALECT: Dialect;
    /// The request header carrying the webhook's signature.
    const SIGNATURE_HEADER: &'static str;
    /// How the OpenAPI document describes this dialect's webhooks.
    const API_DOC: WebhookDoc;

    /// Checks the webhook's signature with the secret configured for this provider, before
    /// anything else of the webhook is read; with no secret configured every webhook passes.
    fn verify(settings: &Settings, webhook: &Webhook<'_>) -> Result<(), SignatureError>;

    /// Normalises a verified webhook of any kind (a status callback fills [`Inbound::status`]);
    /// the error says what the webhook lacks.
    fn parse(webhook: &Webhook<'_>) -> Result<Inbound, String>;

    /// Whether the dialect can carry out the action; a step asking for one it cannot gets a
    /// stand-in answer instead (see [`super::http::render`]).
    fn supports(_action: &Action) -> bool {
        true
    }

    /// The answer document for the actions, with its content type.
    fn render(settings: &Settings, actions: &[Action]) -> StoredAnswer;
}

/// A webhook as it arrived, nothing in it trusted yet.
pub struct Webhook<'a> {
    /// The path and query it was posted to; with the configured public URL before it, the URL a
    /// provider signs (never the Host header, which a proxy rewrites).
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// When it arrived, for signatures that expire.
    pub received_at: Timestamp,
}

impl Webhook<'_> {
    /// The signature header of dialect `P`, if present and readable.
    pub fn signature<P: Provider>(&self) -> Option<&str> {
        self.headers.get(P::SIGNATURE_HEADER).and_then(|v| v.to_str().ok())
    }
}

/// The dialect's part of the OpenAPI description of its webhooks.
pub struct WebhookDoc {
    /// How summaries name the provider (`Twilio: a call arrives; ...`).
    pub provider: &'static str,
    /// What the signature header's description says about when it is checked.
    pub signature_checked: &'static str,
    pub request_content_type: &'static str,
    pub request_description: &'static str,
    pub request_schema: fn() -> RefOr<Schema>,
    /// How "What the caller hears next" ends, naming the answer's format (`as TwiML`).
    pub answer_format: &'static str,
    pub answer_content_type: &'static str,
    pub answer_schema: fn() -> RefOr<Schema>,
}
