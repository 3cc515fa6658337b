//! The sentences callers hear outside the menus (put through, waiting in the queue, the service
//! unable to take the call), read from `ivr-scripts/phrases.toml` so every word a caller hears
//! is in the scripts folder.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::speech;

/// The file in a scripts folder that holds the phrases.
pub const FILE: &str = "phrases.toml";

/// Every phrase is required; its `{placeholders}` are those [`PLACEHOLDERS`] allows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phrases {
    pub put_through: String,
    pub put_through_failed: String,
    pub hold: String,
    pub queue_position: String,
    pub wait: String,
    pub settlement_choice: String,
    pub restoration_time: String,
    pub restoration_unknown: String,
    pub crew_en_route: String,
    pub crew_on_site: String,
    pub crew_unknown: String,
    pub unavailable: String,
    pub unavailable_duty: String,
    pub unavailable_later: String,
    pub unsupported: String,
    /// Where a hazard is, when its caller could not say (a dispatcher's call says it in its place).
    pub settlement_unknown: String,
}

/// What each phrase may fill in; a phrase not named here fills in nothing.
pub const PLACEHOLDERS: &[(&str, &[&str])] = &[
    ("queue_position", &["position"]),
    ("wait", &["wait_range"]),
    ("settlement_choice", &["settlement", "key"]),
    ("restoration_time", &["until"]),
];

impl Phrases {
    /// Each phrase with its key, for the checker.
    pub fn each(&self) -> [(&'static str, &str); 16] {
        [
            ("put_through", &self.put_through),
            ("put_through_failed", &self.put_through_failed),
            ("hold", &self.hold),
            ("queue_position", &self.queue_position),
            ("wait", &self.wait),
            ("settlement_choice", &self.settlement_choice),
            ("restoration_time", &self.restoration_time),
            ("restoration_unknown", &self.restoration_unknown),
            ("crew_en_route", &self.crew_en_route),
            ("crew_on_site", &self.crew_on_site),
            ("crew_unknown", &self.crew_unknown),
            ("unavailable", &self.unavailable),
            ("unavailable_duty", &self.unavailable_duty),
            ("unavailable_later", &self.unavailable_later),
            ("unsupported", &self.unsupported),
            ("settlement_unknown", &self.settlement_unknown),
        ]
    }

    /// The placeholders the phrase `key` may hold.
    pub fn allowed(key: &str) -> &'static [&'static str] {
        PLACEHOLDERS.iter().find(|(name, _)| *name == key).map_or(&[], |(_, vars)| vars)
    }
}

/// A phrase with its placeholders filled in.
pub fn fill(phrase: &str, vars: &[(&str, &str)]) -> String {
    let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    speech::fill(phrase, &vars)
}

#[cfg(test)]
mod tests {
    use crate::ivr::{BUILT_IN, validate};

    /// The built-in menus with `phrases.toml` replaced by `text`: the problems found.
    fn problems_with(text: &str) -> String {
        let sources: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(name, built_in)| (name.to_string(), if *name == super::FILE { text } else { built_in }.to_string()))
            .collect();
        validate::check(&sources).err().map(|p| p.to_string()).unwrap_or_default()
    }

    #[test]
    fn every_phrase_is_required_in_words_and_fills_only_its_placeholders() {
        let shipped = crate::ivr::BUILT_IN_PHRASES;
        assert_eq!(problems_with(shipped), "");
        let missing = shipped.replace("hold = ", "# hold = ");
        assert!(problems_with(&missing).contains("missing field `hold`"), "{}", problems_with(&missing));
        let unknown = format!("{shipped}\ngreeting = \"Здравствуйте.\"\n");
        assert!(problems_with(&unknown).contains("unknown field `greeting`"), "{}", problems_with(&unknown));
        let figures = shipped.replace("звоните сто двенадцать", "звоните 112");
        assert!(problems_with(&figures).contains("phrases.toml:unavailable:a number or time in figures"));
        let stray = shipped.replace("{wait_range}", "{etr}");
        assert!(problems_with(&stray).contains("phrases.toml:wait:unknown variable '{etr}'"));
    }
}
