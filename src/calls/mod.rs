//! Calls: each provider webhook, whatever its dialect, becomes one step of a call. A step is
//! answered once: its effects, the call's new position and the answer commit together, and a
//! redelivery of the same step gets the stored answer back without doing anything again.

pub mod caller_id;
pub mod effects;
pub mod http;
pub mod lifecycle;
pub mod replays;
pub mod returning;

pub use caller_id::CallerId;
pub use lifecycle::{CallEvent, CallStatus};

use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::config::Settings;
use crate::error::ApiError;
use crate::escalation::policy::Policies;
use crate::ivr::engine::{self, CallState, Input, Next, StepUrls};
use crate::ivr::{Flow, Phrases, phrases};
use crate::queue::ItemState;
use crate::store::{CallRecord, CallTx, NewCall, Store, StoreError, StoredAnswer, new_id};
use crate::telephony::{Action, Dialect, GatherResult, Inbound, ProviderStatus};

/// What a call step needs, and nothing else of the app. Cheap to clone: the store is a pool
/// handle, the rest is shared.
#[derive(Clone)]
pub struct CallContext {
    pub store: Store,
    /// The checked IVR flow; loaded once at start, shared by every webhook.
    pub flow: Arc<Flow>,
    pub settings: Arc<Settings>,
    /// Checked escalation policies; a hazard's escalation copies the one it starts under.
    pub policies: Arc<Policies>,
    pub clock: Clock,
    /// Settlement names for speech hints, shared by every call's location questions.
    pub hints: Arc<crate::settlements::NameHints>,
    /// What the steps' answers are stored packed against.
    pub replay_dictionaries: Arc<replays::Dictionaries>,
}

/// The provider queue callers wait in for an operator (the scripts' `enqueue = "operators"`).
const OPERATOR_QUEUE: &str = "operators";

/// A caller who has waited this long is offered, once per stretch of waiting, to be rung back
/// instead (SPEC §4a: waiting is never a trap).
const CALLBACK_OFFER_AFTER_S: i64 = 60;

/// Which webhook of a call this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The number's voice URL: the call arrives.
    Entry,
    /// A URL the server issued for step `n` (a gather, record or queue result).
    Step(StepNumber),
}

/// The step number in a URL the server issued: from 1 (the entry is step 0) to a bound no real
/// call comes near, so that no arithmetic on it can overflow and no stored step is mistaken
/// for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepNumber(u32);

impl StepNumber {
    pub const MAX: u32 = 100_000;

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl std::str::FromStr for StepNumber {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) && !raw.starts_with('+') => Ok(Self(n)),
            _ => Err(format!("'{raw}' is not a step number (1 to {})", Self::MAX)),
        }
    }
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
        // Every recording URL enters here, whichever dialect brought it; only http(s) is kept.
        let url = inbound.recording_url.as_deref().and_then(crate::telephony::recording_url).map(str::to_owned);
        return Input::Recording { url, duration_s: inbound.recording_duration_s };
    }
    if let Some(result) = &inbound.queue_result {
        return Input::LeftQueue(result.clone());
    }
    if let Some(status) = &inbound.dial_status {
        return Input::DialEnded(status.clone());
    }
    match &inbound.gather {
        Some(GatherResult::Digits(d)) => Input::Digits(d.clone()),
        Some(GatherResult::Speech { transcript, .. }) => Input::Speech(transcript.clone()),
        Some(GatherResult::Silence) | None => Input::Silence,
    }
}

/// Where the call's lifecycle goes after a step that left the caller at `next`.
fn lifecycle_event(input: &Input, next: Next) -> Vec<CallEvent> {
    let mut events = vec![CallEvent::Answer];
    if let Input::LeftQueue(result) = input {
        events.push(match result.as_str() {
            "hangup" => CallEvent::Hangup,
            "bridged" => CallEvent::Connect,
            _ => CallEvent::Leave,
        });
    }
    match next {
        Next::Queue => events.push(CallEvent::Enqueue),
        Next::Hangup => events.push(CallEvent::Hangup),
        Next::Menus => {}
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

fn new_call<'a>(dialect: Dialect, inbound: &'a Inbound, caller: &'a Option<CallerId>, state: &'a str) -> NewCall<'a> {
    NewCall {
        provider_call_id: &inbound.call_id,
        dialect,
        caller_number: caller.as_ref(),
        called_number: inbound.to.as_deref(),
        status: CallStatus::Ringing,
        state,
    }
}

fn caller_of(inbound: &Inbound) -> Option<CallerId> {
    inbound.from.as_deref().map(CallerId::parse)
}

/// Answers one IVR webhook. `render` turns the neutral actions into the dialect's document.
pub async fn handle_step(
    ctx: &CallContext,
    dialect: Dialect,
    kind: StepKind,
    inbound: &Inbound,
    render: fn(&Settings, &Phrases, &[Action]) -> StoredAnswer,
) -> Result<StoredAnswer, ApiError> {
    let step = Arc::new((ctx.clone(), inbound.clone()));
    ctx.store
        .write(move |tx| {
            let step = step.clone();
            Box::pin(async move {
                let (ctx, inbound) = &*step;
                step_in(tx, ctx, dialect, kind, inbound, render).await
            })
        })
        .await
}

async fn step_in(
    tx: &mut CallTx,
    ctx: &CallContext,
    dialect: Dialect,
    kind: StepKind,
    inbound: &Inbound,
    render: fn(&Settings, &Phrases, &[Action]) -> StoredAnswer,
) -> Result<StoredAnswer, ApiError> {
    let now = ctx.clock.now();
    let fresh = serde_json::to_string(&CallState::default()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let seq = match kind {
        StepKind::Entry => 0,
        StepKind::Step(n) => n.get(),
    };
    let caller = caller_of(inbound);
    let (mut call, _) =
        tx.lock_or_create(&new_call(dialect, inbound, &caller, &fresh), kind == StepKind::Entry, now).await?;
    // A redelivered step (provider retry, fallback URL) gets the answer it got the first time; a
    // step from beyond the call's last one (never issued) gets the last answer, if any.
    let replay = if seq < call.seq { seq } else { call.seq - 1 };
    if seq != call.seq && replay >= 0 {
        if let Some(answer) = tx.stored_answer(&call, replay).await? {
            tracing::info!(call = %call.id, seq, "replayed a stored step");
            return Ok(answer);
        }
    }
    let mut state = CallState::from_stored(&call.state);
    let mut input = input_from(if seq == 0 { StepKind::Entry } else { kind }, inbound);
    if let (Input::Start, Some(placed)) = (&input, &inbound.placed) {
        input = answered_placed_call(tx, ctx, placed, &call.id, now).await?;
    }
    let urls = step_urls(&ctx.settings.public_url, dialect, seq + 1);
    let (actions, events) = match operator_side(tx, &call, &input, &ctx.flow, &urls, now).await? {
        Some(handled) => handled,
        None => {
            let snapshot = call.clone();
            let mut effects = effects::StepEffects {
                tx: &mut *tx,
                call: &snapshot,
                settings: &ctx.settings,
                policies: &ctx.policies,
                phrases: &ctx.flow.phrases,
                hints: &ctx.hints,
                now,
            };
            let step = engine::step(&ctx.flow, state, input.clone(), &urls, &mut effects)
                .await
                .map_err(|e| ApiError::Internal(e.context("running the IVR step")))?;
            state = step.state;
            if step.next == Next::Queue {
                let returning_since = now.plus_seconds(-ctx.settings.returning_hours * 3600);
                tx.enqueue_call(&call, state.ticket, Some(returning_since), &ctx.settings.queue_ordering, now).await?;
            }
            let events = lifecycle_event(&input, step.next);
            (step.actions, events)
        }
    };
    let answer = render(&ctx.settings, &ctx.flow.phrases, &actions);
    advance(&mut call, &events, now);
    call.seq = seq + 1;
    call.state = serde_json::to_string(&state).map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.finish_step(&call, seq, &inbound.logged(), &answer, ctx.replay_dictionaries.of(dialect), now).await?;
    Ok(answer)
}

/// The called party of a call the hotline placed answered: the outbound script of its request
/// starts, or [`Input::Unexpected`] when there is none to run.
async fn answered_placed_call(
    tx: &mut CallTx,
    ctx: &CallContext,
    placed: &str,
    call_id: &str,
    now: Timestamp,
) -> Result<Input, StoreError> {
    let script = tx.answer_placed_call(placed, call_id, now).await?;
    match script.as_deref().and_then(|script| ctx.flow.outbound.get(script)) {
        Some(start) => Ok(Input::Answered(start.clone())),
        None => {
            tracing::warn!(call = %call_id, placed, ?script, "a placed call answered with no outbound script to run: hanging up");
            Ok(Input::Unexpected)
        }
    }
}

/// The caller side of an operator taking the call: put through to the operator who took it
/// once the caller left the queue, and back to the head of the queue when that operator's phone
/// did not answer (SPEC §4a). `None` lets the flow go on (after recording a hang-up in the queue).
async fn operator_side(
    tx: &mut CallTx,
    call: &CallRecord,
    input: &Input,
    flow: &Flow,
    urls: &StepUrls,
    now: Timestamp,
) -> Result<Option<(Vec<Action>, Vec<CallEvent>)>, StoreError> {
    let say = |text: &str| Action::Say { text: text.into(), voice: flow.voice.clone() };
    match input {
        Input::LeftQueue(result) if result == "hangup" => {
            tx.abandon_call(&call.id, now).await?;
            Ok(None)
        }
        Input::LeftQueue(_) => {
            let Some((item, Some(contact))) = tx.taken_call(&call.id).await? else { return Ok(None) };
            tracing::info!(call = %call.id, item = %item.id, operator = ?item.operator, "putting the caller through");
            let dial =
                Action::Dial { target: contact, caller_id: None, timeout_s: 30, action_url: Some(urls.action.clone()) };
            Ok(Some((vec![say(&flow.phrases.put_through), dial], vec![CallEvent::Connect])))
        }
        Input::DialEnded(outcome) if !Input::dial_answered(outcome) && call.status == CallStatus::Connected => {
            let Some(item) = tx.put_through_failed(&call.id, outcome, now).await? else { return Ok(None) };
            tracing::warn!(call = %call.id, item = %item.id, outcome, "the operator's phone did not take the call: back to the head of the queue");
            let back = vec![
                say(&flow.phrases.put_through_failed),
                Action::Enqueue {
                    queue: OPERATOR_QUEUE.into(),
                    wait_url: urls.wait.clone(),
                    action_url: urls.action.clone(),
                },
            ];
            Ok(Some((back, vec![CallEvent::Enqueue])))
        }
        _ => Ok(None),
    }
}

/// What a caller waiting in the queue hears on each poll: `Leave` once an operator has taken
/// the call; otherwise their place (when it got better) and the expected wait, as a range.
pub async fn handle_wait(ctx: &CallContext, dialect: Dialect, inbound: &Inbound) -> Result<Vec<Action>, StoreError> {
    let now = ctx.clock.now();
    let voice = ctx.flow.voice.clone();
    let say = |text: String| Action::Say { text, voice: voice.clone() };
    let hold = vec![say(ctx.flow.phrases.hold.clone()), Action::Pause { seconds: 15 }];
    let Some(call) = ctx.store.call_by_provider_id(dialect.as_str(), &inbound.call_id).await? else { return Ok(hold) };
    let item = ctx.store.call_item(&call.id).await?;
    let waiting = item.as_ref().filter(|item| item.state == ItemState::Waiting);
    // The poll is logged, and the position the caller is about to hear recorded, in one write.
    let (call_id, logged, announce) =
        (call.id.clone(), inbound.logged(), waiting.map(|item| (item.id.clone(), item.position.unwrap_or(1))));
    let better_position = ctx
        .store
        .write(move |tx| {
            let (call_id, logged, announce) = (call_id.clone(), logged.clone(), announce.clone());
            Box::pin(async move {
                tx.log_event(&call_id, now, "wait", &format!("wait:{}:{}", now.millis(), new_id()), &logged).await?;
                match announce {
                    Some((item_id, position)) => tx.announce_position(&item_id, position).await,
                    None => Ok(false),
                }
            })
        })
        .await?;
    let Some(item) = item else { return Ok(hold) };
    if item.state != ItemState::Waiting {
        return Ok(vec![Action::Leave]);
    }
    // Out of the queue for a moment, to a menu that offers a call back keeping the place: a wait
    // poll can only speak (jambonz allows no gather there), so the offer is a step of the flow.
    let callable = call.callable_number().is_some();
    let waited_s = call.queued_at.map_or(0, |since| (now.millis() - since.millis()) / 1000);
    if callable && waited_s >= CALLBACK_OFFER_AFTER_S {
        return Ok(vec![Action::Leave]);
    }
    let position = item.position.unwrap_or(1);
    let figures = ctx.store.queue_figures(now.plus_seconds(-ctx.settings.operator_lease_s)).await?;
    let wait = figures.wait_for(position - 1, Some(item.category));
    let mut actions = Vec::new();
    if better_position {
        let place = crate::ivr::russian::queue_position(position.clamp(1, i64::from(u32::MAX)) as u32);
        actions.push(say(phrases::fill(&ctx.flow.phrases.queue_position, &[("position", &place)])));
    }
    actions.push(say(phrases::fill(&ctx.flow.phrases.wait, &[("wait_range", &wait.spoken())])));
    actions.push(Action::Pause { seconds: 15 });
    Ok(actions)
}

/// Records a status callback. Late, repeated and out-of-order callbacks are logged once each
/// and move the lifecycle only where it allows.
pub async fn handle_status(ctx: &CallContext, dialect: Dialect, inbound: &Inbound) -> Result<CallStatus, StoreError> {
    let callback = Arc::new((ctx.clone(), inbound.clone()));
    ctx.store
        .write(move |tx| {
            let callback = callback.clone();
            Box::pin(async move {
                let (ctx, inbound) = &*callback;
                status_in(tx, ctx, dialect, inbound).await
            })
        })
        .await
}

async fn status_in(
    tx: &mut CallTx,
    ctx: &CallContext,
    dialect: Dialect,
    inbound: &Inbound,
) -> Result<CallStatus, StoreError> {
    let now = ctx.clock.now();
    let fresh = serde_json::to_string(&CallState::default()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let (mut call, _) = tx.lock_or_create(&new_call(dialect, inbound, &caller_of(inbound), &fresh), false, now).await?;
    let event = match inbound.status {
        Some(ProviderStatus::InProgress) => Some(CallEvent::Answer),
        Some(ProviderStatus::Completed) => Some(CallEvent::Hangup),
        Some(ProviderStatus::Busy | ProviderStatus::NoAnswer | ProviderStatus::Failed | ProviderStatus::Canceled) => {
            Some(CallEvent::Fail)
        }
        Some(ProviderStatus::Ringing) | None => None,
    };
    let key = format!("status:{:?}:{}", inbound.status, inbound.sequence.map(|s| s.to_string()).unwrap_or_default());
    let new = tx.log_event(&call.id, now, "status", &key, &inbound.logged()).await?;
    if let (true, Some(placed), Some(status)) = (new, &inbound.placed, inbound.status) {
        tx.placed_call_status(placed, status, now).await?;
    }
    if new {
        let before = call.status;
        advance(&mut call, &event.into_iter().collect::<Vec<_>>(), now);
        if call.status != before {
            match (before, call.status) {
                (_, CallStatus::Abandoned) => {
                    let waited = call.queued_at.map(|q| (now.millis() - q.millis()) / 1000).unwrap_or(0);
                    tracing::info!(call = %call.id, waited_s = waited, "caller hung up while waiting: abandoned");
                    tx.abandon_call(&call.id, now).await?;
                }
                (CallStatus::Connected, _) => tx.operator_wraps_up(&call.id, now).await?,
                _ => {}
            }
            if call.status.is_final() {
                tx.escalate_call_hazards(&call.id, &ctx.policies, now).await?;
            }
            tx.update_call(&call, now).await?;
        }
    }
    Ok(call.status)
}
