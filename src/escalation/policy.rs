//! Escalation policies: read from TOML, checked, and matched to a ticket. What an escalation
//! stores is a snapshot of the policy's expanded steps, so later edits never change it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tickets::Category;

/// The policies shipped with the product (src/escalation/policies.toml).
pub const DEFAULT_POLICIES: &str = include_str!("policies.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    recipients: BTreeMap<String, Recipient>,
    #[serde(default)]
    policies: Vec<RawPolicy>,
}

/// Someone who can be told: a dispatcher desk, a duty engineer.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    categories: Vec<Category>,
    #[serde(default)]
    districts: Vec<String>,
    #[serde(default)]
    repeat: u32,
    steps: Vec<RawStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    notify: Vec<String>,
    wait_min: u32,
}

/// One planned notification of an escalation: whom, and how long after the start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedStep {
    pub order: u32,
    pub after_s: i64,
    pub recipients: Vec<Recipient>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub categories: Vec<Category>,
    /// Empty: every district.
    pub districts: Vec<String>,
    /// The steps of every round, expanded, in firing order.
    pub plan: Vec<PlannedStep>,
}

#[derive(Debug, Clone)]
pub struct Policies(Vec<Policy>);

impl Policies {
    /// Reads and checks a policy file; every problem is listed.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let raw: RawFile = toml::from_str(text).map_err(|e| vec![e.message().trim().to_string()])?;
        let mut problems = Vec::new();
        for (key, r) in &raw.recipients {
            if !r.email.contains('@') || r.email.contains(char::is_whitespace) {
                problems.push(format!("recipient {key}: '{}' is not an e-mail address", r.email));
            }
        }
        let mut policies = Vec::new();
        for p in raw.policies {
            let at = |what: String| format!("policy {}: {what}", p.name);
            if p.steps.is_empty() {
                problems.push(at("needs at least one step".into()));
            }
            if p.categories.is_empty() {
                problems.push(at("names no category".into()));
            }
            if p.repeat > 10 {
                problems.push(at("repeats more than 10 times".into()));
            }
            let mut plan = Vec::new();
            let mut after_s = 0;
            for round in 0..=p.repeat {
                for (i, step) in p.steps.iter().enumerate() {
                    if round == 0 && !(1..=1440).contains(&step.wait_min) {
                        problems.push(at(format!("step {}: wait_min must be from 1 to 1440", i + 1)));
                    }
                    let mut recipients = Vec::new();
                    for who in &step.notify {
                        match raw.recipients.get(who) {
                            Some(r) => recipients.push(r.clone()),
                            None if round == 0 => {
                                problems.push(at(format!("step {}: unknown recipient '{who}'", i + 1)))
                            }
                            None => {}
                        }
                    }
                    if round == 0 && step.notify.is_empty() {
                        problems.push(at(format!("step {} notifies nobody", i + 1)));
                    }
                    plan.push(PlannedStep { order: plan.len() as u32 + 1, after_s, recipients });
                    after_s += i64::from(step.wait_min) * 60;
                }
            }
            policies.push(Policy { name: p.name, categories: p.categories, districts: p.districts, plan });
        }
        // A hazard anywhere must reach someone: there has to be a policy for hazards in every district.
        if !policies.iter().any(|p| p.categories.contains(&Category::Hazard) && p.districts.is_empty()) {
            problems.push("no policy covers hazards in every district (one without 'districts')".into());
        }
        if problems.is_empty() { Ok(Self(policies)) } else { Err(problems) }
    }

    /// The first policy for a ticket of `category` in `district`, if any.
    pub fn matching(&self, category: Category, district: Option<&str>) -> Option<&Policy> {
        self.0.iter().find(|p| {
            p.categories.contains(&category)
                && (p.districts.is_empty() || district.is_some_and(|d| p.districts.iter().any(|pd| pd == d)))
        })
    }

    /// Categories some policy escalates.
    pub fn escalates(&self, category: Category) -> bool {
        self.0.iter().any(|p| p.categories.contains(&category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policies_are_valid_and_district_first() {
        let policies = Policies::parse(DEFAULT_POLICIES).unwrap();
        let uglich = policies.matching(Category::Hazard, Some("Угличский район")).unwrap();
        assert_eq!(uglich.name, "hazard-uglich");
        assert_eq!(uglich.plan.len(), 4, "two steps, repeated once");
        assert_eq!(uglich.plan.iter().map(|s| s.after_s).collect::<Vec<_>>(), vec![0, 300, 900, 1200]);
        assert_eq!(policies.matching(Category::Hazard, Some("Любимский район")).unwrap().name, "hazard");
        assert_eq!(policies.matching(Category::Hazard, None).unwrap().name, "hazard");
        assert!(policies.matching(Category::Question, None).is_none());
    }

    #[test]
    fn every_problem_of_a_bad_file_is_listed() {
        let text = r#"
[recipients.a]
name = "A"
email = "not-an-address"

[[policies]]
name = "p"
categories = ["hazard"]
districts = ["X"]
steps = [{ notify = ["a", "ghost"], wait_min = 0 }]
"#;
        let problems = Policies::parse(text).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("recipient a: 'not-an-address'"), "{all}");
        assert!(all.contains("unknown recipient 'ghost'"), "{all}");
        assert!(all.contains("wait_min must be from 1 to 1440"), "{all}");
        assert!(all.contains("no policy covers hazards in every district"), "{all}");
    }
}
