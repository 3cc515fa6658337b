//! Calls: each provider webhook, whatever its dialect, becomes one step of a call. A step is
//! answered once: its effects, the call's new position and the answer commit together, and a
//! redelivery of the same step gets the stored answer back without doing anything again.

pub mod effects;
pub mod lifecycle;

pub use lifecycle::{CallEvent, CallStatus};

use crate::app::AppState;
use crate::clock::Timestamp;
use crate::ivr::engine::{self, CallState, Input, StepUrls};
use crate::store::{CallRecord, NewCall, StoreError, StoredAnswer};
use crate::telephony::{Action, Dialect, GatherResult, Inbound, ProviderStatus};

/// Which webhook of a call this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The number's voice URL: the call arrives.
    Entry,
    /// A URL the server issued for step `n` (a gather, record or queue result).
    Step(i64),
}

/// The URLs a provider should use after step `seq`.
pub fn step_urls(public_url: &str, dialect: Dialect, seq: i64) -> StepUrls {
    let base = format!("{public_url}/telephony/{}", dialect.as_str());
    let action = format!("{base}/step/{seq}");
    StepUrls { no_input: action.clone(), action, wait: format!("{base}/wait") }
}

fn input_from(kind: StepKind, inbound: &Inbound) -> Input {
    if kind == StepKind::Entry {
        return Input::Start;
    }
    if inbound.recording_url.is_some() || inbound.recording_duration_s.is_some() {
        return Input::Recording { url: inbound.recording_url.clone(), duration_s: inbound.recording_duration_s };
    }
    if let Some(result) = &inbound.queue_result {
        return Input::LeftQueue(result.clone());
    }
    match &inbound.gather {
        Some(GatherResult::Digits(d)) => Input::Digits(d.clone()),
        Some(GatherResult::Speech { transcript, .. }) => Input::Speech(transcript.clone()),
        Some(GatherResult::Silence) | None => Input::Silence,
    }
}

/// Where the call's lifecycle goes after a step that answered with `actions`.
fn lifecycle_event(input: &Input, actions: &[Action]) -> Vec<CallEvent> {
    let mut events = vec![CallEvent::Answer];
    if let Input::LeftQueue(result) = input {
        events.push(match result.as_str() {
            "hangup" => CallEvent::Hangup,
            "bridged" => CallEvent::Connect,
            _ => CallEvent::Leave,
        });
    }
    for action in actions {
        match action {
            Action::Enqueue { .. } => events.push(CallEvent::Enqueue),
            Action::Hangup => events.push(CallEvent::Hangup),
            _ => {}
        }
    }
    events
}

/// Applies lifecycle events in order, skipping those the lifecycle does not allow.
fn advance(call: &mut CallRecord, events: &[CallEvent], now: Timestamp) {
    for event in events {
        if let Some(next) = lifecycle::after(call.status, *event) {
            if next == CallStatus::Queued && call.status != CallStatus::Queued {
                call.queued_at = Some(now);
            }
            if next.is_final() && call.ended_at.is_none() {
                call.ended_at = Some(now);
            }
            call.status = next;
        }
    }
}

fn new_call<'a>(dialect: Dialect, inbound: &'a Inbound, state: &'a str) -> NewCall<'a> {
    NewCall {
        provider_call_id: &inbound.call_id,
        dialect: dialect.as_str(),
        caller_number: inbound.from.as_deref(),
        called_number: inbound.to.as_deref(),
        status: CallStatus::Ringing,
        state,
    }
}

/// Answers one IVR webhook. `render` turns the neutral actions into the dialect's document.
pub async fn handle_step(
    app: &AppState,
    dialect: Dialect,
    kind: StepKind,
    inbound: &Inbound,
    raw: &str,
    render: impl Fn(&[Action]) -> StoredAnswer,
) -> Result<StoredAnswer, StoreError> {
    let now = app.clock.now();
    let fresh = serde_json::to_string(&CallState::default()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = app.store.begin_call_step().await?;
    let (mut call, _) = tx.lock_or_create(&new_call(dialect, inbound, &fresh), now).await?;
    let seq = match kind {
        StepKind::Entry => 0,
        StepKind::Step(n) => n,
    };
    // A redelivered step (provider retry, fallback URL) gets the answer it got the first time.
    let replay = if seq < call.seq { seq } else { call.seq - 1 };
    if seq != call.seq {
        if let Some(answer) = tx.stored_answer(&call.id, replay.max(0)).await? {
            tx.commit().await?;
            tracing::info!(call = %call.id, seq, "replayed a stored step");
            return Ok(answer);
        }
    }
    let state: CallState = serde_json::from_str(&call.state).unwrap_or_default();
    let input = input_from(if seq == 0 { StepKind::Entry } else { kind }, inbound);
    let urls = step_urls(&app.settings.public_url, dialect, seq + 1);
    let caller = call.caller_number.clone();
    let mut effects = effects::StepEffects { tx: &mut tx, call_id: &call.id, caller_number: caller.as_deref(), now };
    let step = engine::step(&app.flow, state, input.clone(), &urls, &mut effects)
        .await
        .map_err(|e| StoreError::Invalid(format!("IVR step failed: {e:#}")))?;
    let answer = render(&step.actions);
    tx.log_event(&call.id, now, "step", &format!("step:{seq}"), raw).await?;
    tx.store_answer(&call.id, seq, &answer, now).await?;
    advance(&mut call, &lifecycle_event(&input, &step.actions), now);
    call.seq = seq + 1;
    call.state = serde_json::to_string(&step.state).map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.update_call(&call, now).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Records a status callback. Late, repeated and out-of-order callbacks are logged once each
/// and move the lifecycle only where it allows.
pub async fn handle_status(
    app: &AppState,
    dialect: Dialect,
    inbound: &Inbound,
    raw: &str,
) -> Result<CallStatus, StoreError> {
    let now = app.clock.now();
    let fresh = serde_json::to_string(&CallState::default()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = app.store.begin_call_step().await?;
    let (mut call, _) = tx.lock_or_create(&new_call(dialect, inbound, &fresh), now).await?;
    let event = match inbound.status {
        Some(ProviderStatus::InProgress) => Some(CallEvent::Answer),
        Some(ProviderStatus::Completed) => Some(CallEvent::Hangup),
        Some(ProviderStatus::Busy | ProviderStatus::NoAnswer | ProviderStatus::Failed | ProviderStatus::Canceled) => {
            Some(CallEvent::Fail)
        }
        Some(ProviderStatus::Ringing) | None => None,
    };
    let key = format!("status:{:?}:{}", inbound.status, inbound.sequence.map(|s| s.to_string()).unwrap_or_default());
    let new = tx.log_event(&call.id, now, "status", &key, raw).await?;
    if new {
        let before = call.status;
        advance(&mut call, &event.into_iter().collect::<Vec<_>>(), now);
        if call.status != before {
            if call.status == CallStatus::Abandoned {
                let waited = call.queued_at.map(|q| (now.millis() - q.millis()) / 1000).unwrap_or(0);
                tracing::info!(call = %call.id, waited_s = waited, "caller hung up while waiting: abandoned");
            }
            tx.update_call(&call, now).await?;
        }
    }
    tx.commit().await?;
    Ok(call.status)
}
