//! The IVR script format as written in `ivr-scripts/*.toml`: plain serde structs, checked by
//! `validate` before anything runs them.
//!
//! ```toml
//! [flow]                       # optional; main.toml's `start` is where every call begins
//! outbound = "start"           # (another file) a script for calls the hotline places starts here
//! start = "welcome"
//! menu = "menu"                # key 9 on every other menu comes back here
//! operator = "operator"        # key 0 on every menu goes here; * repeats any menu
//! language = "ru-RU"
//! voice = "Polly.Tatyana"
//!
//! [nodes.main_menu]
//! say = "Если видите оборванный провод, нажмите 1."
//! gather = { input = "dtmf", digits = 1, timeout = 5 }
//! on = { "1" = "hazard.start", "0" = "operator" }   # another file's node: "file.node"
//! no_input = { say = "Не слышу ответа.", retries = 1, then = "operator" }
//! invalid = { say = "Такой клавиши нет.", retries = 1, then = "operator" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptFile {
    #[serde(default)]
    pub flow: FlowHeader,
    #[serde(default)]
    pub nodes: BTreeMap<String, RawNode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowHeader {
    pub start: Option<String>,
    pub language: Option<String>,
    /// Twilio's voice name (`Polly.Tatyana`); jambonz speaks with HOTLINE_JAMBONZ_TTS_VENDOR's voice.
    pub voice: Option<String>,
    /// The main menu: key 9 on any other menu goes there.
    pub menu: Option<String>,
    /// Where key 0 on any menu goes: a person.
    pub operator: Option<String>,
    /// Makes the file a script for calls the hotline places (SPEC §8): the node the called
    /// party starts at when they pick up. Named by the file's name (`dispatcher`).
    pub outbound: Option<String>,
}

/// One or several lines of text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Lines {
    One(String),
    Many(Vec<String>),
}

impl Lines {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Lines::One(line) => vec![line],
            Lines::Many(lines) => lines,
        }
    }
}

/// A node as written. Which fields it has decides its kind: `gather`, `record`, `enqueue`,
/// `do`, `use`, `return`, `hangup`, or only `say` + `next`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub say: Option<Lines>,
    pub play: Option<String>,
    /// Seconds of silence after the prompts.
    pub pause: Option<u32>,
    pub gather: Option<RawGather>,
    /// Menu branches: key pressed (or word said) → target node.
    pub on: Option<BTreeMap<String, String>>,
    /// Free input (a postcode, an application number) is stored in this variable.
    pub capture: Option<String>,
    pub no_input: Option<RawRetry>,
    pub invalid: Option<RawRetry>,
    pub record: Option<RawRecord>,
    /// Queue name the caller waits in for an operator.
    pub enqueue: Option<String>,
    /// Put the caller through to this phone or SIP address (a template: `{duty_phone}`); `next`
    /// is where the caller goes when nobody answers.
    pub dial: Option<String>,
    /// A named domain action (see `ivr::actions`).
    #[serde(rename = "do")]
    pub action: Option<String>,
    #[serde(rename = "with")]
    pub args: Option<toml::Table>,
    /// Action outcome → target node.
    pub outcomes: Option<BTreeMap<String, String>>,
    pub next: Option<String>,
    pub hangup: Option<bool>,
    /// Run another part of the flow (a reusable step such as asking for the location), then
    /// come back to `next` when it reaches a `return`.
    #[serde(rename = "use")]
    pub uses: Option<String>,
    /// Go back to the node after the `use` that led here.
    #[serde(rename = "return")]
    pub returns: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGather {
    /// "dtmf", "speech" or "dtmf speech".
    pub input: Option<String>,
    pub digits: Option<u32>,
    pub finish_on_key: Option<String>,
    pub timeout: Option<u32>,
    /// Speech hints; the word "settlements" stands for every settlement name.
    pub hints: Option<Lines>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub say: Option<String>,
    /// How many times the question is asked again before `then`.
    pub retries: u32,
    pub then: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    pub max_length: u32,
    pub finish_on_key: Option<String>,
}
