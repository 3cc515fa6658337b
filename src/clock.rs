//! Time as the product sees it: one injectable clock, the timestamp stored in the database, and
//! the loops that run beside the requests on a period.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use serde::{Serialize, Serializer};

/// A moment, as milliseconds since the Unix epoch: the one form both databases store and order
/// alike. It leaves the API as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + seconds * 1000)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Self(t.as_millisecond())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.to_jiff())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Documented as it is serialized (an RFC 3339 string), not as the integer inside.
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples([serde_json::json!("2026-01-15T08:30:00.000Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// Where "now" comes from. Production reads the system clock; tests that exercise timers
/// hand in their own so nothing has to sleep.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(|| jiff::Timestamp::now().into()))
    }
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

/// Runs `round` over `state` every `period` until the task is aborted (a late round delays the
/// next instead of bunching them up); a failed round is logged under `what` and the next one
/// tries again. Whatever a round acts on is a row, so a restart only delays it.
pub fn every<S>(
    period: Duration,
    what: &'static str,
    state: S,
    round: impl for<'a> Fn(&'a S) -> BoxFuture<'a, anyhow::Result<()>> + Send + 'static,
) -> tokio::task::JoinHandle<()>
where
    S: Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = round(&state).await {
                tracing::warn!(error = %format!("{e:#}"), "{what} failed; trying again next round");
            }
        }
    })
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock(now={})", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_leave_as_rfc3339_utc() {
        let t = Timestamp(1_796_000_000_123);
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-11-30T00:53:20.123Z\"");
    }
}
