//! The domain actions a script names (`do = "..."`), carried out inside the step's transaction
//! so they commit with the answer or not at all.

use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::config::Settings;
use crate::ivr::engine::Effects;
use crate::phone::PhoneNumber;
use crate::queue::estimate_wait;
use crate::settlements::{Settlement, match_spoken};
use crate::store::{CallRecord, CallTx, SettlementQuery, StoreError};
use crate::tickets::{Category, Channel, NewTicket, Priority, Status};

/// The variable a location question captures the caller's answer in.
const LOCATION_VAR: &str = "location";
/// The variable a numbered choice among settlements is captured in.
const CHOICE_VAR: &str = "choice";

pub struct StepEffects<'a> {
    pub tx: &'a mut CallTx,
    pub call: &'a CallRecord,
    pub settings: &'a Settings,
    pub now: Timestamp,
}

/// Above this estimated wait a caller is offered a call back (SPEC §4: over two minutes).
const CALLBACK_OFFER_ABOVE_S: i64 = 120;

fn set_settlement(vars: &mut BTreeMap<String, String>, s: &Settlement) {
    vars.insert("settlement".into(), s.name.clone());
    vars.insert("settlement_id".into(), s.id.to_string());
    vars.remove("settlement_candidates");
}

impl StepEffects<'_> {
    async fn lookup_settlement(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let said = vars.get(LOCATION_VAR).cloned().unwrap_or_default();
        let digits: String = said.chars().filter(|c| !c.is_whitespace()).collect();
        let found = if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            if digits.len() != 6 {
                Vec::new()
            } else {
                self.tx.find_settlements(&SettlementQuery { postcode: Some(digits), name: None }).await?
            }
        } else {
            let all = self.tx.find_settlements(&SettlementQuery::default()).await?;
            match_spoken(&said, &all).into_iter().cloned().collect()
        };
        Ok(match found.as_slice() {
            [] => "unknown".into(),
            [one] => {
                set_settlement(vars, one);
                "found".into()
            }
            several => {
                let choices: Vec<String> = several
                    .iter()
                    .take(9)
                    .enumerate()
                    .map(|(i, s)| format!("{} — нажмите {}", s.name, i + 1))
                    .collect();
                // Kept as "id=name;..." so the caller's numbered choice needs no second lookup.
                let candidates: Vec<String> = several.iter().take(9).map(|s| format!("{}={}", s.id, s.name)).collect();
                vars.insert("settlement_choices".into(), choices.join(", "));
                vars.insert("settlement_candidates".into(), candidates.join(";"));
                "several".into()
            }
        })
    }

    fn choose_settlement(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let choice = vars.get(CHOICE_VAR).and_then(|c| c.trim().parse::<usize>().ok());
        let candidates = vars.get("settlement_candidates").cloned().unwrap_or_default();
        let picked = choice
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| candidates.split(';').nth(i))
            .and_then(|pair| pair.split_once('='))
            .and_then(|(id, name)| {
                Some(Settlement { id: id.parse().ok()?, name: name.into(), ..Settlement::default() })
            });
        Ok(match picked {
            Some(settlement) => {
                set_settlement(vars, &settlement);
                "found".into()
            }
            None => "unknown".into(),
        })
    }

    async fn create_ticket(
        &mut self,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let category: Category = args
            .get("category")
            .and_then(|v| v.as_str())
            .ok_or_else(|| anyhow::anyhow!("create_ticket without a category"))?
            .parse()
            .map_err(anyhow::Error::msg)?;
        let priority = match args.get("priority").and_then(|v| v.as_integer()) {
            Some(p) => Priority::parse(p).map_err(anyhow::Error::msg)?,
            None => category.default_priority(),
        };
        let description = args
            .get("description")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Обращение по телефону: {category}"));
        let new = NewTicket {
            category,
            priority,
            channel: Channel::Phone,
            status: Status::New,
            caller_number: self.call.caller_number.as_deref().and_then(|n| PhoneNumber::parse(n).ok()),
            settlement_id: vars.get("settlement_id").and_then(|id| id.parse().ok()),
            address: None,
            description,
            recording_url: vars.get("recording_url").cloned(),
            recording_duration_s: vars.get("recording_duration").and_then(|d| d.parse().ok()),
            call_id: Some(self.call.id.clone()),
            assignee_id: None,
            actor: "ivr".into(),
        };
        let ticket = self.tx.create_ticket(&new, self.now).await?;
        tracing::info!(number = %ticket.number, category = %ticket.category, call = %self.call.id, "ticket created by the IVR");
        vars.insert("ticket_number".into(), ticket.number);
        Ok(crate::ivr::actions::NEXT.into())
    }
}

impl StepEffects<'_> {
    /// "short" or "long" (over two minutes), with the range to say in `wait_range`.
    async fn estimate_wait(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let alive_since = self.now.plus_seconds(-self.settings.operator_lease_s);
        let figures = self.tx.queue_figures(alive_since).await?;
        let wait = estimate_wait(figures.waiting, figures.operators_available, &figures.recent_handle_s);
        vars.insert("wait_range".into(), wait.spoken());
        Ok(if wait.max_s > CALLBACK_OFFER_ABOVE_S { "long" } else { "short" }.into())
    }

    /// "created", or "duplicate" when this number already waits for a call back.
    async fn request_callback(&mut self) -> anyhow::Result<String> {
        match self.tx.request_callback(self.call, &self.settings.queue_ordering, self.now).await {
            Ok(_) => Ok("created".into()),
            Err(StoreError::Conflict(_)) => Ok("duplicate".into()),
            Err(e) => Err(e.into()),
        }
    }
}

impl StepEffects<'_> {
    /// "known" when the caller's latest recent ticket names a settlement (set as the current
    /// one, to be confirmed), else "none".
    async fn recent_settlement(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let Some(number) = self.call.caller_number.as_deref().and_then(|n| PhoneNumber::parse(n).ok()) else {
            return Ok("none".into());
        };
        let since = self.now.plus_seconds(-self.settings.returning_hours * 3600);
        let history = self.tx.caller_history(number.as_str(), since).await?;
        match history.into_iter().find_map(|t| t.settlement) {
            Some(settlement) => {
                vars.insert("settlement".into(), settlement.name);
                vars.insert("settlement_id".into(), settlement.id.to_string());
                Ok("known".into())
            }
            None => Ok("none".into()),
        }
    }
}

impl Effects for StepEffects<'_> {
    async fn perform(
        &mut self,
        action: &str,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        match action {
            "lookup_settlement" => self.lookup_settlement(vars).await,
            "choose_settlement" => self.choose_settlement(vars),
            "create_ticket" => self.create_ticket(args, vars).await,
            "estimate_wait" => self.estimate_wait(vars).await,
            "request_callback" => self.request_callback().await,
            "recent_settlement" => self.recent_settlement(vars).await,
            other => anyhow::bail!("no implementation for action '{other}'"),
        }
    }

    async fn settlement_names(&mut self) -> anyhow::Result<Vec<String>> {
        let all = self.tx.find_settlements(&SettlementQuery::default()).await?;
        Ok(all.into_iter().map(|s| s.name).collect())
    }
}
