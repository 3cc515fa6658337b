//! Escalation policies: read from TOML, checked, and matched to a ticket. What an escalation
//! stores is a snapshot of the policy's expanded steps, so later edits never change it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::clock::Timestamp;
use crate::text_enum::text_enum;
use crate::tickets::Category;

/// The policies shipped with the product (src/escalation/policies.toml).
pub const DEFAULT_POLICIES: &str = include_str!("policies.toml");

/// Reminders about an acknowledged, unresolved escalation come this often unless a policy says otherwise.
const DEFAULT_REMIND_AFTER_MIN: u32 = 60;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    recipients: BTreeMap<String, Recipient>,
    #[serde(default)]
    shifts: BTreeMap<String, RawShift>,
    #[serde(default)]
    policies: Vec<RawPolicy>,
}

/// Someone who can be told: a dispatcher desk, a duty engineer.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    /// Where a step of the channel `call` rings them (`+7...`); without one they are only mailed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

text_enum! {
    /// How a step tells its recipients.
    pub enum StepChannel {
        Email = "email",
        /// Rings every recipient with a phone and mails everyone: the e-mail stays the written
        /// record with its acknowledgement link.
        Call = "call",
    }
}

impl Default for StepChannel {
    /// What a step written without a channel (and one started before calls existed) does.
    fn default() -> Self {
        Self::Email
    }
}

/// A duty rota: `rota[0]` is on duty for `hours` from `starts`, then the next, round and round.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShift {
    starts: String,
    hours: u32,
    rota: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    #[serde(default)]
    categories: Vec<Category>,
    /// Tickets of these priorities (1 the highest) match whatever their category.
    #[serde(default)]
    priorities: Vec<i64>,
    #[serde(default)]
    districts: Vec<String>,
    #[serde(default)]
    repeat: u32,
    remind_after_min: Option<u32>,
    /// Seconds instead of minutes: for drills and tests.
    remind_after_s: Option<u32>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    notify: Vec<String>,
    #[serde(default)]
    channel: StepChannel,
    wait_min: Option<u32>,
    /// Seconds instead of minutes: for drills and tests.
    wait_s: Option<u32>,
}

/// Whom a step tells, as the policy names them: resolved to people when the step fires, so a
/// shift change or a new dispatcher account counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// `notify = ["key"]`: a recipient of the file.
    Person(Recipient),
    /// `notify = ["role:dispatcher"]`: every account of that role with an e-mail address.
    Role { role: Role },
    /// `notify = ["shift:key"]`: whoever is on duty in that shift when the step fires.
    /// `starts_ms`: when `rota[0]`'s first shift began (Unix milliseconds).
    Shift { shift: String, starts_ms: i64, hours: u32, rota: Vec<Recipient> },
}

impl Target {
    /// The people this target means at `at`; accounts of a role come from `by_role`.
    pub fn resolve(&self, at: Timestamp, by_role: &[(Role, Recipient)]) -> Vec<Recipient> {
        match self {
            Target::Person(r) => vec![r.clone()],
            Target::Role { role } => by_role.iter().filter(|(r, _)| r == role).map(|(_, p)| p.clone()).collect(),
            Target::Shift { starts_ms, hours, rota, .. } => {
                let shift_ms = i64::from(*hours) * 3_600_000;
                let turn = (at.millis() - starts_ms).div_euclid(shift_ms);
                rota.get(turn.rem_euclid(rota.len() as i64) as usize).cloned().into_iter().collect()
            }
        }
    }
}

/// Everyone `targets` mean at `at`, each once, in a stable order.
pub fn resolve_all(targets: &[Target], at: Timestamp, by_role: &[(Role, Recipient)]) -> Vec<Recipient> {
    let mut people: Vec<Recipient> = targets.iter().flat_map(|t| t.resolve(at, by_role)).collect();
    people.sort();
    people.dedup_by(|a, b| a.email.eq_ignore_ascii_case(&b.email));
    people
}

/// One planned notification of an escalation: whom, and how long after the start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedStep {
    pub order: u32,
    pub after_s: i64,
    pub targets: Vec<Target>,
    #[serde(default)]
    pub channel: StepChannel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub categories: Vec<Category>,
    pub priorities: Vec<i64>,
    /// Empty: every district.
    pub districts: Vec<String>,
    /// The steps of every round, expanded, in firing order.
    pub plan: Vec<PlannedStep>,
    /// How long after an acknowledgement (and between reminders) an unresolved escalation reminds.
    pub remind_after_s: i64,
}

/// A step of an escalation as it starts: when it is due and whom it notifies then.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledStep<'a> {
    pub order: u32,
    pub due_at: Timestamp,
    pub targets: &'a [Target],
    pub recipients: Vec<Recipient>,
    pub channel: StepChannel,
}

impl Policy {
    /// The steps of an escalation that starts at `now` under this policy, each with the people
    /// it would notify when due (the worker resolves them again as it fires).
    pub fn schedule(&self, now: Timestamp, by_role: &[(Role, Recipient)]) -> Vec<ScheduledStep<'_>> {
        self.plan
            .iter()
            .map(|step| {
                let due_at = now.plus_seconds(step.after_s);
                ScheduledStep {
                    order: step.order,
                    due_at,
                    targets: &step.targets,
                    recipients: resolve_all(&step.targets, due_at, by_role),
                    channel: step.channel,
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Policies(Vec<Policy>);

fn is_email(address: &str) -> bool {
    address.contains('@') && !address.contains(char::is_whitespace)
}

impl Policies {
    /// Reads and checks a policy file; every problem is listed.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let raw: RawFile = toml::from_str(text).map_err(|e| vec![e.message().trim().to_string()])?;
        let mut problems = Vec::new();
        for (key, r) in &raw.recipients {
            if !is_email(&r.email) {
                problems.push(format!("recipient {key}: '{}' is not an e-mail address", r.email));
            }
            if let Some(phone) = &r.phone {
                if crate::phone::PhoneNumber::parse(phone).is_err() {
                    problems.push(format!("recipient {key}: '{phone}' is not a phone number (+7...)"));
                }
            }
        }
        let mut shifts = BTreeMap::new();
        for (key, shift) in &raw.shifts {
            let at = |what: String| format!("shift {key}: {what}");
            let starts = match shift.starts.parse::<jiff::Timestamp>() {
                Ok(t) => t.as_millisecond(),
                Err(e) => {
                    problems.push(at(format!("starts '{}' is not a time with an offset ({e})", shift.starts)));
                    continue;
                }
            };
            if !(1..=168).contains(&shift.hours) {
                problems.push(at("hours must be from 1 to 168".into()));
            }
            if shift.rota.is_empty() {
                problems.push(at("the rota is empty".into()));
            }
            let mut rota = Vec::new();
            for who in &shift.rota {
                match raw.recipients.get(who) {
                    Some(r) => rota.push(r.clone()),
                    None => problems.push(at(format!("unknown recipient '{who}' in the rota"))),
                }
            }
            shifts.insert(
                key.clone(),
                Target::Shift { shift: key.clone(), starts_ms: starts, hours: shift.hours.max(1), rota },
            );
        }
        let target = |name: &str| -> Result<Target, String> {
            if let Some(role) = name.strip_prefix("role:") {
                return match role.parse::<Role>() {
                    Ok(role) => Ok(Target::Role { role }),
                    Err(_) => Err(format!("unknown role '{role}'")),
                };
            }
            if let Some(shift) = name.strip_prefix("shift:") {
                return shifts.get(shift).cloned().ok_or_else(|| format!("unknown shift '{shift}'"));
            }
            raw.recipients
                .get(name)
                .map(|r| Target::Person(r.clone()))
                .ok_or_else(|| format!("unknown recipient '{name}'"))
        };
        let mut policies = Vec::new();
        for p in raw.policies {
            let at = |what: String| format!("policy {}: {what}", p.name);
            if p.steps.is_empty() {
                problems.push(at("needs at least one step".into()));
            }
            if p.categories.is_empty() && p.priorities.is_empty() {
                problems.push(at("names no category and no priority".into()));
            }
            if p.priorities.iter().any(|n| !(1..=4).contains(n)) {
                problems.push(at("priorities are from 1 to 4".into()));
            }
            if p.repeat > 10 {
                problems.push(at("repeats more than 10 times".into()));
            }
            let remind_after_s = match (p.remind_after_min, p.remind_after_s) {
                (None, None) => i64::from(DEFAULT_REMIND_AFTER_MIN) * 60,
                (Some(min), None) if (1..=1440).contains(&min) => i64::from(min) * 60,
                (None, Some(s)) if (1..=86_400).contains(&s) => i64::from(s),
                _ => {
                    problems.push(at("give remind_after_min from 1 to 1440 or remind_after_s from 1 to 86400".into()));
                    3600
                }
            };
            let mut round = Vec::new();
            for (i, step) in p.steps.iter().enumerate() {
                let wait_s = match (step.wait_min, step.wait_s) {
                    (Some(min), None) if (1..=1440).contains(&min) => i64::from(min) * 60,
                    (None, Some(s)) if (1..=86_400).contains(&s) => i64::from(s),
                    (Some(_), Some(_)) => {
                        problems.push(at(format!("step {}: give wait_min or wait_s, not both", i + 1)));
                        60
                    }
                    (None, None) => {
                        problems.push(at(format!("step {}: needs wait_min (or wait_s)", i + 1)));
                        60
                    }
                    _ => {
                        problems.push(at(format!(
                            "step {}: wait_min must be from 1 to 1440 (wait_s from 1 to 86400)",
                            i + 1
                        )));
                        60
                    }
                };
                if step.notify.is_empty() {
                    problems.push(at(format!("step {} notifies nobody", i + 1)));
                }
                let mut targets = Vec::new();
                for who in &step.notify {
                    match target(who) {
                        Ok(t) => targets.push(t),
                        Err(e) => problems.push(at(format!("step {}: {e}", i + 1))),
                    }
                }
                round.push((targets, wait_s, step.channel));
            }
            let mut plan = Vec::new();
            let mut after_s = 0;
            for _ in 0..=p.repeat {
                for (targets, wait_s, channel) in &round {
                    plan.push(PlannedStep {
                        order: plan.len() as u32 + 1,
                        after_s,
                        targets: targets.clone(),
                        channel: *channel,
                    });
                    after_s += wait_s;
                }
            }
            policies.push(Policy {
                name: p.name,
                categories: p.categories,
                priorities: p.priorities,
                districts: p.districts,
                plan,
                remind_after_s,
            });
        }
        // A hazard anywhere must reach someone: there has to be a policy for hazards in every district.
        if !policies.iter().any(|p| p.categories.contains(&Category::Hazard) && p.districts.is_empty()) {
            problems.push("no policy covers hazards in every district (one without 'districts')".into());
        }
        if problems.is_empty() { Ok(Self(policies)) } else { Err(problems) }
    }

    /// The first policy for a ticket of `category` and `priority` in `district`, if any.
    pub fn matching(&self, category: Category, priority: i64, district: Option<&str>) -> Option<&Policy> {
        self.0.iter().find(|p| {
            (p.categories.contains(&category) || p.priorities.contains(&priority))
                && (p.districts.is_empty() || district.is_some_and(|d| p.districts.iter().any(|pd| pd == d)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policies_are_valid_and_district_first() {
        let policies = Policies::parse(DEFAULT_POLICIES).unwrap();
        let uglich = policies.matching(Category::Hazard, 1, Some("Угличский район")).unwrap();
        assert_eq!(uglich.name, "hazard-uglich");
        assert_eq!(uglich.plan.len(), 4, "two steps, repeated once");
        assert_eq!(uglich.plan.iter().map(|s| s.after_s).collect::<Vec<_>>(), vec![0, 300, 900, 1200]);
        assert_eq!(policies.matching(Category::Hazard, 1, Some("Любимский район")).unwrap().name, "hazard");
        assert_eq!(policies.matching(Category::Hazard, 1, None).unwrap().name, "hazard");
        assert!(policies.matching(Category::Question, 4, None).is_none());
    }

    #[test]
    fn shifts_rotate_and_roles_mean_the_accounts_with_an_address() {
        let text = r#"
[recipients.a]
name = "A"
email = "a@x.ru"
[recipients.b]
name = "B"
email = "b@x.ru"
[shifts.duty]
starts = "2026-01-01T08:00:00+03:00"
hours = 12
rota = ["a", "b"]
[[policies]]
name = "all"
categories = ["hazard"]
priorities = [1]
steps = [{ notify = ["shift:duty", "role:dispatcher"], wait_s = 30 }]
"#;
        let policies = Policies::parse(text).unwrap();
        assert!(policies.matching(Category::Outage, 1, None).is_some(), "priority 1 matches whatever the category");
        assert!(policies.matching(Category::Outage, 2, None).is_none());
        let step = &policies.matching(Category::Hazard, 1, None).unwrap().plan[0];
        let at = |local: &str| Timestamp::from(local.parse::<jiff::Timestamp>().unwrap());
        let dispatchers = vec![
            (Role::Dispatcher, Recipient { name: "olga".into(), email: "olga@x.ru".into(), phone: None }),
            (Role::Operator, Recipient { name: "ivan".into(), email: "ivan@x.ru".into(), phone: None }),
        ];
        let emails = |when: &str| -> Vec<String> {
            resolve_all(&step.targets, at(when), &dispatchers).into_iter().map(|r| r.email).collect()
        };
        assert_eq!(emails("2026-01-01T10:00:00+03:00"), ["a@x.ru", "olga@x.ru"]);
        assert_eq!(emails("2026-01-01T21:00:00+03:00"), ["b@x.ru", "olga@x.ru"], "the night shift");
        assert_eq!(emails("2026-01-03T07:59:00+03:00"), ["b@x.ru", "olga@x.ru"]);
        assert_eq!(emails("2026-01-03T08:00:00+03:00"), ["a@x.ru", "olga@x.ru"], "round again");
        assert_eq!(emails("2025-12-31T20:00:00+03:00"), ["b@x.ru", "olga@x.ru"], "before the start, backwards");
    }

    #[test]
    fn a_schedule_puts_each_step_after_the_start_with_whom_it_notifies_then() {
        let policies = Policies::parse(DEFAULT_POLICIES).unwrap();
        let uglich = policies.matching(Category::Hazard, 1, Some("Угличский район")).unwrap();
        let now = Timestamp(1_800_000_000_000);
        let schedule = uglich.schedule(now, &[]);
        let due: Vec<i64> = schedule.iter().map(|s| s.due_at.millis() - now.millis()).collect();
        assert_eq!(due, [0, 300_000, 900_000, 1_200_000]);
        assert_eq!(
            schedule.iter().map(|s| s.order).collect::<Vec<_>>(),
            uglich.plan.iter().map(|p| p.order).collect::<Vec<_>>()
        );
        let told: Vec<Vec<&str>> =
            schedule.iter().map(|s| s.recipients.iter().map(|r| r.email.as_str()).collect()).collect();
        assert_eq!(
            told,
            [
                ["uglich-res@yarenergo.example"],
                ["cus-duty@yarenergo.example"],
                ["uglich-res@yarenergo.example"],
                ["cus-duty@yarenergo.example"]
            ]
        );
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
steps = [{ notify = ["a", "ghost", "shift:night", "role:boss"], wait_min = 0 }]

[shifts.day]
starts = "tomorrow"
hours = 0
rota = ["nobody"]
"#;
        let problems = Policies::parse(text).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("recipient a: 'not-an-address'"), "{all}");
        assert!(all.contains("unknown recipient 'ghost'"), "{all}");
        assert!(all.contains("wait_min must be from 1 to 1440"), "{all}");
        assert!(all.contains("no policy covers hazards in every district"), "{all}");
        assert!(all.contains("unknown shift 'night'") && all.contains("unknown role 'boss'"), "{all}");
        assert!(all.contains("shift day: starts 'tomorrow' is not a time with an offset"), "{all}");
    }
}
