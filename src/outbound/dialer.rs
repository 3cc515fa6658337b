//! The dialer: claims the calls that are due and asks the provider to place them, at a bounded
//! rate, dispatchers' alerts first. Everything it acts on is a row, so several dialers
//! (instances) may run: a request is held by one dialer's claim while it asks, and a placed one
//! is never asked for again.

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;

use super::{OutboundCall, PlaceCall, Placer, ProviderApi, Purpose, QUERY, power_back};
use crate::clock::Clock;
use crate::config::Settings;
use crate::escalation::worker::retry_delay_s;
use crate::store::Store;
use crate::telephony::Dialect;

/// How often the dialer looks for due calls.
const TICK: Duration = Duration::from_secs(1);
/// At most this many alert calls are asked for per tick by one instance: a storm of escalations
/// must not flood the provider's trunk (and its rate limits) at once.
pub const CALLS_PER_TICK: i64 = 5;
/// How long a claimed call is held; longer than a provider's REST answer may take.
const CLAIM_MS: i64 = 30_000;
/// After this many refusals the provider is not asked again: the escalation's next step and
/// its e-mails go on regardless, and a stale alert call helps nobody.
pub const MAX_ATTEMPTS: i64 = 6;

pub struct Dialer {
    pub store: Store,
    pub placer: Arc<dyn Placer>,
    pub dialect: Dialect,
    /// HOTLINE_PUBLIC_URL: the base of the URLs the provider is given.
    pub public_url: String,
    /// HOTLINE_OUTBOUND_FROM: the caller id shown.
    pub from: String,
    /// HOTLINE_TIMEZONE: where the quiet hours of power-back calls are counted.
    pub timezone: TimeZone,
    pub clock: Clock,
}

/// How long a provider's REST API may take to take a call before the attempt counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl Dialer {
    /// The dialer of the provider `api`, as the settings configure it.
    pub fn from_settings(api: &ProviderApi, settings: &Settings, store: Store, clock: Clock) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client for the provider's REST API: {e}"))?;
        Ok(Self {
            store,
            placer: api.placer(http),
            dialect: api.dialect(),
            public_url: settings.public_url.clone(),
            from: settings.outbound_from.clone(),
            timezone: settings.timezone.clone(),
            clock,
        })
    }

    /// Runs until the task is aborted; a failed round is logged and the next one tries again.
    pub fn start(self) -> tokio::task::JoinHandle<()> {
        crate::clock::every(TICK, "a dialer round", self, |dialer| Box::pin(dialer.round()))
    }

    /// One pass: places the alerts that are due, up to [`CALLS_PER_TICK`], then, outside the
    /// quiet hours, up to [`power_back::CALLS_PER_TICK`] power-back calls. Hazards ignore the
    /// quiet hours.
    pub async fn round(&self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let mut due = self.store.claim_outbound_calls(Purpose::Escalation, now, CLAIM_MS, CALLS_PER_TICK).await?;
        if !power_back::quiet(now, &self.timezone) {
            let power_back = power_back::CALLS_PER_TICK;
            due.extend(self.store.claim_outbound_calls(Purpose::PowerBack, now, CLAIM_MS, power_back).await?);
        }
        for call in due {
            if let Err(e) = self.place(&call).await {
                tracing::error!(outbound = %call.id, error = %e, "recording a call attempt failed");
            }
        }
        Ok(())
    }

    /// The request as the provider gets it: our webhooks, with the request named in the query.
    pub fn request(&self, call: &OutboundCall) -> PlaceCall {
        let base = format!("{}/telephony/{}", self.public_url, self.dialect.as_str());
        PlaceCall {
            to: call.phone.clone(),
            from: self.from.clone(),
            answer_url: format!("{base}/voice?{QUERY}={}", call.id),
            status_url: format!("{base}/status?{QUERY}={}", call.id),
        }
    }

    async fn place(&self, call: &OutboundCall) -> anyhow::Result<()> {
        if !call.still_needed {
            tracing::info!(outbound = %call.id, purpose = %call.purpose, "not placing a call: nothing left to call about");
            return Ok(self.store.outbound_dropped(call, self.clock.now()).await?);
        }
        match self.placer.place(&self.request(call)).await {
            Ok(sid) => {
                self.store.outbound_placed(call, &sid, self.clock.now()).await?;
                tracing::info!(outbound = %call.id, %sid, to = %crate::phone::mask_phones_in(&call.phone), "call placed");
            }
            Err(error) => {
                let now = self.clock.now();
                let attempts = call.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| now.plus_seconds(retry_delay_s(call.attempts)));
                self.store.outbound_failed(call, &error, retry_at, now).await?;
                tracing::warn!(outbound = %call.id, %error, attempts, retrying = retry_at.is_some(), "the provider did not place a call");
            }
        }
        Ok(())
    }
}
