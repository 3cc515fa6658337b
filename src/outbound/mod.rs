//! Calls the hotline places (SPEC §8): a provider-neutral port with Twilio's and jambonz's REST
//! APIs behind it, the durable requests a dialer works through, and what a placed call shows.
//!
//! A call is a row before it is a call: whoever decides to ring someone (an escalation step, a
//! resolved incident with callers waiting for the power) queues a request in its own
//! transaction; the [`dialer`] claims due requests, asks the provider to place them and keeps
//! every attempt. Once the called party answers, the provider drives the call through the same
//! webhooks as an incoming one, with the request named in the URL's query, and the step
//! machinery runs the request's outbound script instead of the menus.

pub mod dialer;
pub mod jambonz;
pub mod power_back;
pub mod twilio;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::config::Secret;
use crate::escalation::policy::Recipient;
use crate::telephony::Dialect;
use crate::text_enum::text_enum;

/// The query parameter of the voice and status URLs given to the provider that names the request
/// a placed call belongs to.
pub const QUERY: &str = "outbound";

/// The provider's REST API through which calls are placed (HOTLINE_OUTBOUND and its settings).
#[derive(Debug, Clone)]
pub enum ProviderApi {
    Twilio { api_url: String, account_sid: String, auth_token: Secret },
    Jambonz { api_url: String, account_sid: String, api_key: Secret },
}

impl ProviderApi {
    /// The webhook dialect in which the provider drives the calls it places.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Twilio { .. } => Dialect::Twilio,
            Self::Jambonz { .. } => Dialect::Jambonz,
        }
    }

    /// The client of this API.
    pub fn placer(&self, http: reqwest::Client) -> Arc<dyn Placer> {
        match self.clone() {
            Self::Twilio { api_url, account_sid, auth_token } => {
                Arc::new(twilio::TwilioRest { http, api_url, account_sid, auth_token })
            }
            Self::Jambonz { api_url, account_sid, api_key } => {
                Arc::new(jambonz::JambonzRest { http, api_url, account_sid, api_key })
            }
        }
    }
}

/// One call for the provider to place: ring `to` showing `from`; once answered, the provider
/// asks `answer_url` what to do and reports the call's progress to `status_url`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCall {
    pub to: String,
    pub from: String,
    pub answer_url: String,
    pub status_url: String,
}

/// The port every provider's REST API plugs into.
pub trait Placer: Send + Sync {
    /// Asks the provider to place `call`; its id for the call (the sid), or why it did not take it.
    fn place<'a>(&'a self, call: &'a PlaceCall) -> BoxFuture<'a, Result<String, String>>;
}

/// Reads a provider's answer to a call request: 201 (or another 2xx) with JSON `{"sid": ...}`.
async fn sid_from(response: Result<reqwest::Response, reqwest::Error>) -> Result<String, String> {
    let response = response.map_err(|e| format!("the provider cannot be reached: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("reading the provider's answer: {e}"))?;
    if !status.is_success() {
        let excerpt: String = text.chars().take(300).collect();
        return Err(format!("the provider answered {status}: {excerpt}"));
    }
    let body: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("the provider's answer is not JSON: {e}"))?;
    body["sid"]
        .as_str()
        .filter(|sid| !sid.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "the provider's answer names no sid".to_string())
}

text_enum! {
    /// Where a placed call stands.
    pub enum OutboundStatus {
        /// Waiting for its first attempt or its next retry.
        Pending = "pending",
        /// The provider took it; it rings.
        Placed = "placed",
        /// Picked up: the outbound script runs (or ran without an acknowledgement).
        Answered = "answered",
        /// The called party pressed 1.
        Acknowledged = "acknowledged",
        Busy = "busy",
        NoAnswer = "no-answer",
        Failed = "failed",
        Canceled = "canceled",
        /// The provider refused every attempt.
        Refused = "refused",
        /// Not placed: what it was to call about was over first (acknowledged another way).
        Dropped = "dropped",
    }
}

text_enum! {
    /// What a placed call is for; the dialer serves alerts first.
    pub enum Purpose {
        /// A dispatcher alerted to a hazard (the script `dispatcher`).
        Escalation = "escalation",
        /// A caller told the power is back ([`power_back`]).
        PowerBack = "power_back",
    }
}

/// A dispatcher's alert call to queue, in the transaction of the escalation step that decided it.
#[derive(Debug, Clone)]
pub struct NewOutboundCall {
    /// One call per key: deciding twice could not ring twice.
    pub dedup_key: String,
    pub escalation_id: String,
    pub step_ord: i64,
    pub recipient: Recipient,
    pub phone: String,
    /// The outbound script (ivr-scripts/NAME.toml) the called party hears.
    pub script: &'static str,
}

/// A request a dialer has claimed.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub id: String,
    pub purpose: Purpose,
    pub phone: String,
    pub attempts: i64,
    /// Whether there is still something to call about: the escalation still waits for an
    /// acknowledgement, the incident is still resolved.
    pub still_needed: bool,
}

/// One request to the provider and what it answered.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CallAttempt {
    pub at: Timestamp,
    /// The provider's id of the call, when it took it.
    pub provider_sid: Option<String>,
    pub error: Option<String>,
}

/// A call placed (or to be placed) for an escalation step, as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct PlacedCall {
    pub recipient: Recipient,
    pub phone: String,
    pub status: OutboundStatus,
    pub answered_at: Option<Timestamp>,
    pub attempts: Vec<CallAttempt>,
}

/// The script a dispatcher hears when a hazard's escalation calls them.
pub const DISPATCHER_SCRIPT: &str = "dispatcher";
