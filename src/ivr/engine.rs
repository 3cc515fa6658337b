//! The interpreter: given where a call stands and what the caller just did, it walks the flow
//! until the caller must act again, carrying out domain actions on the way, and returns the
//! provider-neutral actions to send back.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::flow::{Flow, GatherSpec, Node, NodeKind, Part, Retry};
use super::speech;
use crate::telephony::{Action, Gather, Prompt};
use crate::tickets::TicketNumber;

/// What the caller did since the last step.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The call has just arrived.
    Start,
    /// The called party of a call the hotline placed picked up: its outbound script starts at this node.
    Answered(String),
    /// A webhook the flow has nothing to answer with (a placed call nobody asked for): the call ends.
    Unexpected,
    Digits(String),
    Speech(String),
    /// The gather timed out.
    Silence,
    /// A recording finished (the URL may be absent if the caller hung up at once).
    Recording {
        url: Option<String>,
        duration_s: Option<i64>,
    },
    /// The caller left the operator queue, with the provider's reason.
    LeftQueue(String),
    /// A call put through to a person ended, with the provider's outcome (`completed`, `busy`,
    /// `no-answer`, `failed`, ...).
    DialEnded(String),
}

impl Input {
    /// Whether a dial that ended so reached the person (then the conversation is over).
    pub fn dial_answered(status: &str) -> bool {
        matches!(status, "completed" | "answered")
    }
}

/// Where a call stands between two webhooks; stored with the call so any instance can go on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallState {
    /// The node waiting for the caller (empty before the first step).
    pub node: String,
    /// Failed attempts at that node in a row (silence or a wrong key).
    // What is empty, zero or false is left out of the stored state (a call's row is written
    // at every step and kept for months): reading fills it back in.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tries: u32,
    /// What prompts may speak, as `{name}` in a template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The ticket this call opened (`create_ticket`), which later actions add to or escalate
    /// and the operator queue links the caller to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketNumber>,
    /// Where each `use` in progress returns to, innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
    /// The questions answered so far, in order: the operator who takes the call sees how the
    /// caller got there instead of asking again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl CallState {
    /// The state stored with a call; an unreadable one starts the call over. A state stored
    /// before the ticket was kept apart names it only in the variables: read there, so a call
    /// in progress across an upgrade still adds to and escalates its ticket.
    pub fn from_stored(json: &str) -> Self {
        let mut state: Self = serde_json::from_str(json).unwrap_or_default();
        if state.ticket.is_none() {
            state.ticket = state.vars.get("ticket_number").and_then(|n| n.parse().ok());
        }
        state
    }
}

/// One question the caller answered (or let pass in silence) on the way through the menus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    /// The node that asked, `script.node` (`main.menu`, `location.ask`).
    pub node: String,
    /// The keys pressed or the words recognised; `null` for silence.
    pub input: Option<String>,
}

/// Answers kept per call at most: a caller stuck in a loop must not grow the stored state.
const MAX_ANSWERS: usize = 50;

/// The URLs the provider should use for the next step; issued by the webhook layer.
#[derive(Debug, Clone)]
pub struct StepUrls {
    /// Where a gather, recording or queue exit posts its result.
    pub action: String,
    /// Where the provider goes on silence (Twilio falls through a gather).
    pub no_input: String,
    /// Polled while the caller waits in the queue.
    pub wait: String,
}

/// The domain behind the script's `do = "..."` actions.
pub trait Effects {
    /// Carries out `action` and returns the outcome the script routes on; may set variables,
    /// and names the call's ticket when it opens one.
    fn perform(
        &mut self,
        action: &str,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        ticket: &mut Option<TicketNumber>,
    ) -> impl Future<Output = anyhow::Result<String>> + Send;

    /// Names the speech recogniser should expect where a gather asks for a settlement.
    fn settlement_names(&mut self) -> impl Future<Output = anyhow::Result<Vec<String>>> + Send;
}

#[derive(Debug, Clone)]
pub struct Step {
    pub actions: Vec<Action>,
    pub state: CallState,
    /// Where the step leaves the caller.
    pub next: Next,
}

/// Where a step leaves the caller until the next webhook: what moves the call's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Still with the menus: a question, a recording, or put through to a person.
    Menus,
    /// Waiting in the operator queue.
    Queue,
    /// The call is over.
    Hangup,
}

/// More nodes than this in one step means a flow bug; validation forbids input-free loops, so
/// this only guards against the impossible.
const MAX_NODES_PER_STEP: usize = 64;

pub async fn step<E: Effects>(
    flow: &Flow,
    mut state: CallState,
    input: Input,
    urls: &StepUrls,
    effects: &mut E,
) -> anyhow::Result<Step> {
    if state.ended {
        return Ok(Step { actions: vec![Action::Hangup], state, next: Next::Hangup });
    }
    let mut spoken = Vec::new();
    let target = match input {
        Input::Start => flow.start.clone(),
        Input::Answered(start) => start,
        Input::Unexpected => {
            state.ended = true;
            return Ok(Step { actions: vec![Action::Hangup], state, next: Next::Hangup });
        }
        Input::DialEnded(status) if Input::dial_answered(&status) => {
            // The person talked to the caller: nothing is left for the menus to do.
            state.ended = true;
            return Ok(Step { actions: vec![Action::Hangup], state, next: Next::Hangup });
        }
        input => match flow.node(&state.node) {
            Some(node) => respond(flow, node, &mut state, input, &mut spoken),
            // The flow changed under a live call: start it over rather than drop the caller.
            None => flow.start.clone(),
        },
    };
    let (actions, next) = walk(flow, &mut state, target, spoken, urls, effects).await?;
    Ok(Step { actions, state, next })
}

/// Interprets the caller's input at the node that asked; returns the node to enter next.
fn respond(flow: &Flow, node: &Node, state: &mut CallState, input: Input, spoken: &mut Vec<Prompt>) -> String {
    let here = node.id.clone();
    if matches!(node.kind, NodeKind::Menu { .. } | NodeKind::Capture { .. }) && state.answers.len() < MAX_ANSWERS {
        let given = match &input {
            Input::Digits(d) => Some(d.trim().to_string()),
            Input::Speech(s) => Some(s.trim().to_string()),
            _ => None,
        };
        state.answers.push(Answer { node: here.clone(), input: given.filter(|g| !g.is_empty()) });
    }
    match (&node.kind, input) {
        (NodeKind::Menu { branches, no_input, invalid, gather }, input) => {
            let key = match input {
                Input::Digits(d) => Some(strip_finish_key(&d, gather.finish_on_key)),
                Input::Speech(s) => Some(crate::settlements::fold_name(&s)),
                _ => None,
            };
            match key {
                None => retry(no_input, state, &here, spoken),
                Some(k) if k.is_empty() => retry(no_input, state, &here, spoken),
                Some(k) => match branches.get(&k).cloned().or_else(|| navigation(flow, node, &k)) {
                    Some(target) => target,
                    None => retry(invalid, state, &here, spoken),
                },
            }
        }
        (NodeKind::Capture { var, next, no_input, gather }, input) => {
            let value = match input {
                Input::Digits(d) => strip_finish_key(&d, gather.finish_on_key),
                Input::Speech(s) => s.trim().to_string(),
                _ => String::new(),
            };
            if value.is_empty() {
                retry(no_input, state, &here, spoken)
            } else if let Some(target) = navigation(flow, node, &value) {
                target
            } else {
                state.vars.insert(var.clone(), value);
                next.clone()
            }
        }
        (NodeKind::Record { next, .. }, Input::Recording { url, duration_s }) => {
            if let Some(url) = url {
                state.vars.insert("recording_url".into(), url);
            }
            if let Some(d) = duration_s {
                state.vars.insert("recording_duration".into(), d.to_string());
            }
            next.clone()
        }
        (NodeKind::Record { next, .. }, Input::Silence) => next.clone(),
        (NodeKind::Enqueue { next, .. }, Input::LeftQueue(result)) => {
            state.vars.insert("queue_result".into(), result);
            next.clone()
        }
        (NodeKind::Dial { next, .. }, Input::DialEnded(_)) => next.clone(),
        // Anything else (a late or stray webhook) repeats where the caller is.
        _ => here,
    }
}

/// Keys that mean the same on every menu and question (SPEC §4a): `*` asks again, `9` goes to
/// the main menu, `0` to the operator. A menu's own branch for the key comes first. The called
/// party of a call the hotline places (a dispatcher) is no caller: `*` only, never the callers'
/// menus or queue.
fn navigation(flow: &Flow, node: &Node, key: &str) -> Option<String> {
    let script = node.id.split_once('.').map_or(node.id.as_str(), |(script, _)| script);
    match key {
        "*" => Some(node.id.clone()),
        _ if flow.outbound.contains_key(script) => None,
        "9" => flow.menu.clone().filter(|menu| *menu != node.id),
        "0" => flow.operator.clone(),
        _ => None,
    }
}

fn strip_finish_key(digits: &str, finish: Option<char>) -> String {
    let d = digits.trim();
    match finish {
        Some(key) => d.trim_end_matches(key).to_string(),
        None => d.to_string(),
    }
}

/// One more try at the same question, or on to `then` when the tries are used up.
fn retry(retry: &Retry, state: &mut CallState, here: &str, spoken: &mut Vec<Prompt>) -> String {
    state.tries += 1;
    if state.tries <= retry.retries {
        if let Some(text) = &retry.say {
            spoken.push(Prompt::Say { text: speech::fill(text, &state.vars), voice: Default::default() });
        }
        here.to_string()
    } else {
        retry.then.clone()
    }
}

/// The gather a menu or capture node answers with: its keys, timeout and hints (with
/// `settlement_names` when it asks where the caller is), around what it says.
pub fn asking(
    flow: &Flow,
    gather: &GatherSpec,
    settlement_names: &[String],
    urls: &StepUrls,
    prompts: Vec<Prompt>,
) -> Action {
    let mut hints = gather.hints.clone();
    if gather.settlement_hints {
        hints.extend_from_slice(settlement_names);
    }
    Action::Gather(Gather {
        dtmf: gather.dtmf,
        speech: gather.speech,
        num_digits: gather.num_digits,
        finish_on_key: gather.finish_on_key,
        timeout_s: gather.timeout_s,
        hints,
        language: flow.voice.language.clone(),
        action_url: urls.action.clone(),
        no_input_url: urls.no_input.clone(),
        prompts,
    })
}

/// Enters `target` and follows the flow until a node waits for the caller or ends the call.
async fn walk<E: Effects>(
    flow: &Flow,
    state: &mut CallState,
    mut target: String,
    mut spoken: Vec<Prompt>,
    urls: &StepUrls,
    effects: &mut E,
) -> anyhow::Result<(Vec<Action>, Next)> {
    for prompt in &mut spoken {
        if let Prompt::Say { voice, .. } = prompt {
            *voice = flow.voice.clone();
        }
    }
    for _ in 0..MAX_NODES_PER_STEP {
        let node = flow.node(&target).ok_or_else(|| anyhow::anyhow!("the flow has no node '{target}'"))?;
        if node.id != state.node {
            state.tries = 0;
        }
        for part in &node.parts {
            spoken.push(match part {
                Part::Say(text) => Prompt::Say { text: speech::fill(text, &state.vars), voice: flow.voice.clone() },
                Part::Play(url) => Prompt::Play { url: url.clone() },
                Part::Pause(seconds) => Prompt::Pause { seconds: *seconds },
            });
        }
        let waits_here = |state: &mut CallState| state.node = node.id.clone();
        match &node.kind {
            NodeKind::Message { next } => target = next.clone(),
            NodeKind::Use { sub, then } => {
                state.returns.push(then.clone());
                target = sub.clone();
            }
            // A return with nothing to return to (a flow edited under a live call) starts over.
            NodeKind::Return => target = state.returns.pop().unwrap_or_else(|| flow.start.clone()),
            NodeKind::Action { name, args, outcomes } => {
                let outcome = effects.perform(name, args, &mut state.vars, &mut state.ticket).await?;
                target = outcomes
                    .get(&outcome)
                    .ok_or_else(|| {
                        anyhow::anyhow!("action {name} gave outcome '{outcome}', which {} does not route", node.id)
                    })?
                    .clone();
            }
            NodeKind::Menu { gather, .. } | NodeKind::Capture { gather, .. } => {
                let settlements = if gather.settlement_hints { effects.settlement_names().await? } else { Vec::new() };
                waits_here(state);
                return Ok((vec![asking(flow, gather, &settlements, urls, spoken)], Next::Menus));
            }
            NodeKind::Record { max_length_s, finish_on_key, .. } => {
                waits_here(state);
                let mut actions = into_actions(spoken);
                actions.push(Action::Record {
                    action_url: urls.action.clone(),
                    max_length_s: *max_length_s,
                    timeout_s: 5,
                    finish_on_key: *finish_on_key,
                    play_beep: true,
                });
                return Ok((actions, Next::Menus));
            }
            NodeKind::Enqueue { queue, .. } => {
                waits_here(state);
                state.returns.clear();
                let mut actions = into_actions(spoken);
                actions.push(Action::Enqueue {
                    queue: queue.clone(),
                    wait_url: urls.wait.clone(),
                    action_url: urls.action.clone(),
                });
                return Ok((actions, Next::Queue));
            }
            NodeKind::Dial { target: to, next } => {
                let to = speech::fill(to, &state.vars);
                if to.trim().is_empty() {
                    // Nobody to put the caller through to: on as if nobody answered.
                    target = next.clone();
                    continue;
                }
                waits_here(state);
                let mut actions = into_actions(spoken);
                actions.push(Action::Dial {
                    target: to,
                    caller_id: None,
                    timeout_s: 30,
                    action_url: Some(urls.action.clone()),
                });
                return Ok((actions, Next::Menus));
            }
            NodeKind::Hangup => {
                waits_here(state);
                state.ended = true;
                let mut actions = into_actions(spoken);
                actions.push(Action::Hangup);
                return Ok((actions, Next::Hangup));
            }
        }
    }
    anyhow::bail!("the flow passed {MAX_NODES_PER_STEP} nodes without waiting for the caller")
}

/// What the prompts say, as actions of their own (outside a gather).
pub fn into_actions(prompts: Vec<Prompt>) -> Vec<Action> {
    prompts
        .into_iter()
        .map(|p| match p {
            Prompt::Say { text, voice } => Action::Say { text, voice },
            Prompt::Play { url } => Action::Play { url },
            Prompt::Pause { seconds } => Action::Pause { seconds },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_state_leaves_out_what_is_empty_and_reads_back_whole() {
        let mut state = CallState { node: "main.menu".into(), ..CallState::default() };
        assert_eq!(serde_json::to_string(&state).unwrap(), r#"{"node":"main.menu"}"#);
        state.tries = 2;
        state.ended = true;
        state.returns.push("main.after".into());
        state.vars.insert("settlement".into(), "Углич".into());
        state.answers.push(Answer { node: "main.menu".into(), input: Some("1".into()) });
        assert_eq!(CallState::from_stored(&serde_json::to_string(&state).unwrap()), state);
        // As states were stored before empty fields were left out.
        let before = r#"{"node":"n","tries":0,"vars":{},"returns":[],"ended":false,"answers":[]}"#;
        assert_eq!(CallState::from_stored(before), CallState { node: "n".into(), ..CallState::default() });
    }
}
