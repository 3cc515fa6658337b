//! What a step's stored answer is packed against: the scripts' nodes as each dialect writes them.

use crate::config::Settings;
use crate::ivr::engine;
use crate::ivr::flow::{Flow, NodeKind, Part};
use crate::store::AnswerDictionary;
use crate::telephony::jambonz::Jambonz;
use crate::telephony::twilio::Twilio;
use crate::telephony::{Action, Dialect, Prompt, Provider};

/// One dictionary per dialect: a call speaks one, so its answers are packed against that one's words.
#[derive(Debug, Clone)]
pub struct Dictionaries {
    twilio: AnswerDictionary,
    jambonz: AnswerDictionary,
}

impl Dictionaries {
    /// The dictionaries for answers of `flow` under `settings`, whose location questions offer
    /// `settlement_names` as speech hints.
    pub fn new(flow: &Flow, settings: &Settings, settlement_names: &[String]) -> Self {
        let twilio = Twilio::render(settings, &document(flow, settings, settlement_names, Dialect::Twilio));
        let jambonz = Jambonz::render(settings, &document(flow, settings, settlement_names, Dialect::Jambonz));
        Self {
            twilio: AnswerDictionary::new(twilio.body.into_bytes()),
            jambonz: AnswerDictionary::new(jambonz.body.into_bytes()),
        }
    }

    pub fn of(&self, dialect: Dialect) -> &AnswerDictionary {
        match dialect {
            Dialect::Twilio => &self.twilio,
            Dialect::Jambonz => &self.jambonz,
        }
    }

    pub fn each(&self) -> [&AnswerDictionary; 2] {
        [&self.twilio, &self.jambonz]
    }
}

/// Every node's prompts as the engine speaks them (a menu's inside its gather, with its keys,
/// timeout and hints), the retry prompts and the phrases, then every other verb a step answers
/// with; as one document, so a run of prompts an answer repeats is one stretch of it. Templates
/// keep their `{variables}`: a filled one still shares the text around them.
fn document(flow: &Flow, settings: &Settings, settlement_names: &[String], dialect: Dialect) -> Vec<Action> {
    let urls = super::step_urls(&settings.public_url, dialect, 1);
    let say = |text: &str| Prompt::Say { text: text.to_string(), voice: flow.voice.clone() };
    let said = |texts: Vec<&str>| engine::into_actions(texts.into_iter().map(say).collect());
    let mut nodes: Vec<_> = flow.nodes.values().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut actions = Vec::new();
    for node in nodes {
        let prompts: Vec<Prompt> = node
            .parts
            .iter()
            .map(|part| match part {
                Part::Say(text) => say(text),
                Part::Play(url) => Prompt::Play { url: url.clone() },
                Part::Pause(seconds) => Prompt::Pause { seconds: *seconds },
            })
            .collect();
        match &node.kind {
            NodeKind::Menu { gather, no_input, invalid, .. } => {
                actions.push(engine::asking(flow, gather, settlement_names, &urls, prompts));
                actions.extend(said([&no_input.say, &invalid.say].into_iter().flatten().map(String::as_str).collect()));
            }
            NodeKind::Capture { gather, no_input, .. } => {
                actions.push(engine::asking(flow, gather, settlement_names, &urls, prompts));
                actions.extend(said(no_input.say.as_deref().into_iter().collect()));
            }
            _ => actions.extend(engine::into_actions(prompts)),
        }
    }
    actions.extend(said(flow.phrases.each().into_iter().map(|(_, text)| text).collect()));
    actions.extend([
        Action::Record {
            action_url: urls.action.clone(),
            max_length_s: 60,
            timeout_s: 5,
            finish_on_key: Some('#'),
            play_beep: true,
        },
        Action::Enqueue { queue: super::OPERATOR_QUEUE.into(), wait_url: urls.wait, action_url: urls.action.clone() },
        Action::Redirect { url: urls.action },
        Action::Hangup,
    ]);
    actions
}
