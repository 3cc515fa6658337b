//! A checked IVR flow: what the engine runs. Only `validate` builds one, so every target
//! exists, every gather has its paths and every action is known.

use std::collections::{BTreeMap, HashMap};

use super::phrases::Phrases;
use crate::telephony::Voice;

#[derive(Debug, Clone)]
pub struct Flow {
    /// The node every call starts at (`file.node`).
    pub start: String,
    pub nodes: HashMap<String, Node>,
    pub voice: Voice,
    /// The main menu (`file.node`), where key 9 leads from every other menu.
    pub menu: Option<String>,
    /// Where key 0 leads from every menu: the operator.
    pub operator: Option<String>,
    /// What callers hear outside the menus.
    pub phrases: Phrases,
    /// The scripts of calls the hotline places, by file name (`dispatcher`): the node each starts at.
    pub outbound: BTreeMap<String, String>,
}

impl Flow {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }
}

/// What a node says before it acts.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// A prompt template with `{variables}`.
    Say(String),
    Play(String),
    Pause(u32),
}

#[derive(Debug, Clone)]
pub struct Node {
    /// `file.node`
    pub id: String,
    pub parts: Vec<Part>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatherSpec {
    pub dtmf: bool,
    pub speech: bool,
    pub num_digits: Option<u32>,
    pub finish_on_key: Option<char>,
    pub timeout_s: u32,
    pub hints: Vec<String>,
    /// Offer every settlement name to the speech recogniser.
    pub settlement_hints: bool,
}

/// What happens when a caller says nothing, or something the menu does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub say: Option<String>,
    /// How many times the question is asked again before the caller is sent to `then`.
    pub retries: u32,
    pub then: String,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Speak, then go on.
    Message {
        next: String,
    },
    /// Ask, and branch on the key pressed.
    Menu {
        gather: GatherSpec,
        branches: BTreeMap<String, String>,
        no_input: Retry,
        invalid: Retry,
    },
    /// Ask for free input and keep it in a variable.
    Capture {
        gather: GatherSpec,
        var: String,
        next: String,
        no_input: Retry,
    },
    Record {
        max_length_s: u32,
        finish_on_key: Option<char>,
        next: String,
    },
    /// Wait for an operator; `next` is where the caller goes on leaving the queue.
    Enqueue {
        queue: String,
        next: String,
    },
    /// Put the caller through to a person (`target` is a template); `next` is where the caller
    /// goes when that person is busy or does not answer.
    Dial {
        target: String,
        next: String,
    },
    /// Carry out a domain action and branch on its outcome.
    Action {
        name: &'static str,
        args: toml::Table,
        outcomes: BTreeMap<String, String>,
    },
    /// Run the part of the flow starting at `sub`; its `return` comes back to `then`.
    Use {
        sub: String,
        then: String,
    },
    /// Back to the `then` of the latest `use`.
    Return,
    Hangup,
}

impl NodeKind {
    /// Every node this one can lead to.
    pub fn targets(&self) -> Vec<&str> {
        match self {
            NodeKind::Message { next }
            | NodeKind::Record { next, .. }
            | NodeKind::Enqueue { next, .. }
            | NodeKind::Dial { next, .. } => vec![next],
            NodeKind::Menu { branches, no_input, invalid, .. } => {
                branches.values().map(String::as_str).chain([no_input.then.as_str(), invalid.then.as_str()]).collect()
            }
            NodeKind::Capture { next, no_input, .. } => vec![next, &no_input.then],
            NodeKind::Action { outcomes, .. } => outcomes.values().map(String::as_str).collect(),
            NodeKind::Use { sub, then } => vec![sub, then],
            NodeKind::Return | NodeKind::Hangup => vec![],
        }
    }

    /// Nodes reached without waiting for the caller.
    pub fn auto_targets(&self) -> Vec<&str> {
        match self {
            NodeKind::Message { next } => vec![next],
            NodeKind::Action { outcomes, .. } => outcomes.values().map(String::as_str).collect(),
            NodeKind::Use { sub, .. } => vec![sub],
            _ => vec![],
        }
    }

    /// A way out for the caller: the call ends, a person takes over, or a sub-flow hands back
    /// to the node that used it (which is checked on its own).
    pub fn ends_turn_for_good(&self) -> bool {
        matches!(self, NodeKind::Hangup | NodeKind::Enqueue { .. } | NodeKind::Dial { .. } | NodeKind::Return)
    }
}
