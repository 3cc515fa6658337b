//! The domain actions a script names (`do = "..."`), carried out inside the step's transaction
//! so they commit with the answer or not at all.

use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::config::Settings;
use crate::crews::CrewStatus;
use crate::ivr::engine::Effects;
use crate::ivr::phrases::{self, Phrases};
use crate::ivr::russian;
use crate::outages;
use crate::queue::ItemState;
use crate::settlements::{Settlement, match_spoken};
use crate::store::{CallRecord, CallTx, SettlementQuery, StoreError, TicketUpdate};
use crate::telephony::Dialect;
use crate::tickets::{Category, Channel, NewTicket, Priority, Status, TicketNumber};

/// The variable a location question captures the caller's answer in.
const LOCATION_VAR: &str = "location";
/// The variable a numbered choice among settlements is captured in.
const CHOICE_VAR: &str = "choice";

pub struct StepEffects<'a> {
    pub tx: &'a mut CallTx,
    pub call: &'a CallRecord,
    pub settings: &'a Settings,
    pub policies: &'a std::sync::Arc<crate::escalation::policy::Policies>,
    pub phrases: &'a Phrases,
    pub hints: &'a crate::settlements::NameHints,
    pub now: Timestamp,
}

/// Above this estimated wait a caller is offered a call back (SPEC §4: over two minutes).
const CALLBACK_OFFER_ABOVE_S: i64 = 120;

/// The settlement is known: `settlement_id` is only ever set for a place the caller gave or confirmed.
fn set_settlement(vars: &mut BTreeMap<String, String>, s: &Settlement) {
    vars.insert("settlement".into(), s.name.clone());
    vars.insert("settlement_id".into(), s.id.to_string());
    vars.remove("settlement_candidates");
}

/// One settlement offered to the caller to confirm (`confirm_settlement` takes it).
fn offer_settlement(vars: &mut BTreeMap<String, String>, id: i64, name: &str) {
    vars.insert("settlement".into(), name.to_string());
    vars.insert("settlement_candidates".into(), format!("{id}={name}"));
}

/// Where the settlement of the caller's latest recent ticket is kept once read, as "id=name"
/// ("" for none).
const RECENT_PLACE_VAR: &str = "recent_place";

/// A ticket of this call now names a place: a later location question offers it.
fn forget_recent_place(vars: &mut BTreeMap<String, String>) {
    vars.remove(RECENT_PLACE_VAR);
}

/// A new answer about the place replaces what an earlier one said, also when it finds nothing.
fn forget_settlement(vars: &mut BTreeMap<String, String>) {
    for var in ["settlement", "settlement_id", "settlement_candidates", "settlement_choices"] {
        vars.remove(var);
    }
}

impl StepEffects<'_> {
    async fn lookup_settlement(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let said = vars.get(LOCATION_VAR).cloned().unwrap_or_default();
        forget_settlement(vars);
        let digits: String = said.chars().filter(|c| !c.is_whitespace()).collect();
        let keyed = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
        let found = if keyed {
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
            [one] if keyed => {
                set_settlement(vars, one);
                "found".into()
            }
            // A name the recogniser heard may be the wrong one («ростово» → Ростов): it is
            // offered for confirmation (`confirm_settlement`) before it is used.
            [one] => {
                offer_settlement(vars, one.id, &one.name);
                "heard".into()
            }
            several => {
                let choices: Vec<String> = several
                    .iter()
                    .take(9)
                    .enumerate()
                    .map(|(i, s)| {
                        phrases::fill(
                            &self.phrases.settlement_choice,
                            &[("settlement", &s.name), ("key", &(i + 1).to_string())],
                        )
                    })
                    .collect();
                // Kept as "id=name;..." so the caller's numbered choice needs no second lookup.
                let candidates: Vec<String> = several.iter().take(9).map(|s| format!("{}={}", s.id, s.name)).collect();
                vars.insert("settlement_choices".into(), choices.join(", "));
                vars.insert("settlement_candidates".into(), candidates.join(";"));
                "several".into()
            }
        })
    }

    /// The caller picked one of several candidates by its number (`choice`), or said yes to the
    /// one offered (`first`).
    fn choose_settlement(&mut self, vars: &mut BTreeMap<String, String>, first: bool) -> anyhow::Result<String> {
        let choice = if first { Some(1) } else { vars.get(CHOICE_VAR).and_then(|c| c.trim().parse::<usize>().ok()) };
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
        made: &mut Option<TicketNumber>,
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
        let queued = args.get("queue").and_then(|v| v.as_bool()).unwrap_or(false);
        let escalate_now = args.get("escalate").and_then(|v| v.as_bool()).unwrap_or(true);
        let new = NewTicket {
            category,
            priority,
            channel: Channel::Phone,
            status: if queued { Status::Queued } else { Status::New },
            caller_number: self.call.callable_number(),
            settlement_id: vars.get("settlement_id").and_then(|id| id.parse().ok()),
            address: None,
            description,
            recording_url: vars.get("recording_url").cloned(),
            recording_duration_s: vars.get("recording_duration").and_then(|d| d.parse().ok()),
            call_id: Some(self.call.id.clone()),
            assignee_id: None,
            actor: "ivr".into(),
            incident_window_s: Some(self.settings.incident_window_s),
            escalation: escalate_now.then(|| self.policies.clone()),
        };
        let ticket = if queued {
            self.tx.create_queued_ticket(&new, &self.settings.queue_ordering, self.now).await?
        } else {
            self.tx.create_ticket(&new, self.now).await?
        };
        tracing::info!(number = %ticket.number, category = %ticket.category, call = %self.call.id, "ticket created by the IVR");
        vars.insert("ticket_number".into(), ticket.number.to_string());
        forget_recent_place(vars);
        *made = Some(ticket.number);
        Ok(crate::ivr::actions::NEXT.into())
    }

    fn made(ticket: Option<TicketNumber>) -> anyhow::Result<TicketNumber> {
        ticket.ok_or_else(|| anyhow::anyhow!("the script updates or escalates a ticket before creating one"))
    }

    async fn update_ticket(
        &mut self,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        ticket: Option<TicketNumber>,
    ) -> anyhow::Result<String> {
        let update = TicketUpdate {
            settlement_id: vars.get("settlement_id").and_then(|id| id.parse().ok()),
            description: args.get("description").and_then(|v| v.as_str()).map(str::to_string),
            recording_url: vars.get("recording_url").cloned(),
            recording_duration_s: vars.get("recording_duration").and_then(|d| d.parse().ok()),
        };
        self.tx.update_ticket(Self::made(ticket)?, &update, self.settings.incident_window_s, self.now).await?;
        forget_recent_place(vars);
        Ok(crate::ivr::actions::NEXT.into())
    }

    async fn escalate(&mut self, ticket: Option<TicketNumber>) -> anyhow::Result<String> {
        let ticket = self.tx.escalate_ticket(Self::made(ticket)?, self.policies, self.now).await?;
        tracing::info!(number = %ticket.number, call = %self.call.id, settlement = ?ticket.settlement.map(|s| s.name), "hazard escalated by the IVR");
        Ok(crate::ivr::actions::NEXT.into())
    }
}

impl StepEffects<'_> {
    /// The queue now, counting operators whose console is alive.
    async fn queue_figures(&mut self) -> anyhow::Result<crate::store::QueueFigures> {
        Ok(self.tx.queue_figures(self.now.plus_seconds(-self.settings.operator_lease_s)).await?)
    }

    /// "short" or "long" (over two minutes), with the range to say in `wait_range`.
    async fn estimate_wait(
        &mut self,
        vars: &mut BTreeMap<String, String>,
        ticket: Option<TicketNumber>,
    ) -> anyhow::Result<String> {
        let figures = self.queue_figures().await?;
        if figures.operators_on_shift == 0 {
            return Ok("nobody".into());
        }
        // Only what would be served before this caller counts: web work waits behind callers.
        let ahead = self.tx.waiting_ahead_of_call(ticket, &self.settings.queue_ordering, self.now).await?;
        let wait = figures.wait_for(ahead, None);
        vars.insert("wait_range".into(), wait.spoken());
        // In a storm every caller who reaches this point (hazards never do) is offered a call back.
        let storm = self.storm_mode().await? == "storm";
        Ok(if storm || wait.likely_s() > CALLBACK_OFFER_ABOVE_S { "long" } else { "short" }.into())
    }

    /// "created", or "duplicate" when this number already waits for a call back. A caller who
    /// waits in the queue keeps their place: their turn becomes the call back.
    async fn request_callback(&mut self) -> anyhow::Result<String> {
        let requested = match self.tx.live_call_to_callback(&self.call.id, self.now).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => self.tx.request_callback(self.call, &self.settings.queue_ordering, self.now).await.map(drop),
            Err(e) => Err(e),
        };
        match requested {
            Ok(()) => Ok("created".into()),
            Err(StoreError::Conflict(_)) => Ok("duplicate".into()),
            Err(e) => Err(e.into()),
        }
    }

    /// After the caller left the queue: "yes" while their turn still waits, with the wait.
    async fn still_waiting(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let item = self.tx.live_item(&self.call.id).await?;
        let Some(item) = item.filter(|item| item.state == ItemState::Waiting) else { return Ok("no".into()) };
        let figures = self.queue_figures().await?;
        let wait = figures.wait_for(item.position.unwrap_or(1) - 1, Some(item.category));
        vars.insert("wait_range".into(), wait.spoken());
        Ok("yes".into())
    }

    /// A call back needs a number to ring: not withheld, and one that parses as a phone number.
    fn caller_callable(&self) -> &'static str {
        if self.call.callable_number().is_some() { "yes" } else { "no" }
    }

    fn duty_phone(&self, vars: &mut BTreeMap<String, String>) -> &'static str {
        match &self.settings.duty_phone {
            Some(phone) => {
                vars.insert("duty_phone".into(), phone.clone());
                "set"
            }
            None => "unset",
        }
    }
}

impl StepEffects<'_> {
    /// The settlement of the caller's latest recent ticket, if any, as (id, name). Read once a
    /// call and kept in `vars` (the greeting and the location questions both ask); a ticket this
    /// call makes or places forgets it (see [`forget_recent_place`]).
    async fn recent_place(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<Option<(i64, String)>> {
        if let Some(known) = vars.get(RECENT_PLACE_VAR) {
            return Ok(known.split_once('=').and_then(|(id, name)| Some((id.parse().ok()?, name.to_string()))));
        }
        let place = match self.call.callable_number() {
            Some(number) => {
                let since = self.now.plus_seconds(-self.settings.returning_hours * 3600);
                let history = self.tx.caller_history(number.as_str(), since).await?;
                history.into_iter().find_map(|t| t.settlement).map(|s| (s.id, s.name))
            }
            None => None,
        };
        let kept = place.as_ref().map(|(id, name)| format!("{id}={name}")).unwrap_or_default();
        vars.insert(RECENT_PLACE_VAR.into(), kept);
        Ok(place)
    }

    /// Starts the location questions afresh: "known" when the caller's latest recent ticket
    /// names a settlement (offered, to be confirmed with `confirm_settlement`), else "none".
    async fn recent_settlement(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        forget_settlement(vars);
        Ok(match self.recent_place(vars).await? {
            Some((id, name)) => {
                offer_settlement(vars, id, &name);
                "known"
            }
            None => "none",
        }
        .into())
    }

    /// What a returning caller hears before the menu: the outage in the settlement of their
    /// latest ticket, if any (outcomes as `outage_status`; the place is not taken as confirmed).
    async fn returning_outage(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let Some((id, name)) = self.recent_place(vars).await? else { return Ok("unknown".into()) };
        vars.insert("settlement".into(), name);
        self.outage_status_of(id, vars).await
    }
}

/// How far ahead the planned-outage branch looks.
const PLANNED_HORIZON_S: i64 = 7 * 24 * 3600;
/// The variable the application number is captured in.
const APPLICATION_VAR: &str = "application_number";

impl StepEffects<'_> {
    fn settlement_id(vars: &BTreeMap<String, String>) -> Option<i64> {
        vars.get("settlement_id").and_then(|id| id.parse().ok())
    }

    /// What is known about the power in the caller's settlement: a planned outage in force
    /// ("planned", with `outage_end`), an incident ("incident", with `etr`), or nothing.
    async fn outage_status(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let Some(settlement_id) = Self::settlement_id(vars) else { return Ok("unknown".into()) };
        self.outage_status_of(settlement_id, vars).await
    }

    async fn outage_status_of(
        &mut self,
        settlement_id: i64,
        vars: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let tz = &self.settings.timezone;
        let now = self.now;
        let in_force = self.tx.planned_between(settlement_id, now, now.plus_seconds(1)).await?;
        if let Some(planned) = in_force.first() {
            vars.insert("outage_end".into(), outages::spoken_until(planned.ends_at, now, tz));
            return Ok("planned".into());
        }
        if let Some(incident) = self.tx.open_incident(settlement_id).await? {
            let etr = match incident.etr.filter(|etr| *etr > now) {
                Some(etr) => {
                    phrases::fill(&self.phrases.restoration_time, &[("until", &outages::spoken_until(etr, now, tz))])
                }
                None => self.phrases.restoration_unknown.clone(),
            };
            let crew = match incident.crew_status {
                Some(CrewStatus::EnRoute) => &self.phrases.crew_en_route,
                Some(CrewStatus::OnSite) => &self.phrases.crew_on_site,
                Some(CrewStatus::Available | CrewStatus::OffDuty) | None => &self.phrases.crew_unknown,
            };
            vars.insert("crew".into(), crew.into());
            vars.insert("etr".into(), etr);
            // Reports no dispatcher has confirmed are not announced as an accident.
            return Ok(if incident.confirmed() { "incident" } else { "reports" }.into());
        }
        Ok("unknown".into())
    }

    /// The settlement's planned outages for the next seven days, as one sentence each.
    async fn planned_outages(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let Some(settlement_id) = Self::settlement_id(vars) else { return Ok("none".into()) };
        let tz = &self.settings.timezone;
        let planned =
            self.tx.planned_between(settlement_id, self.now, self.now.plus_seconds(PLANNED_HORIZON_S)).await?;
        if planned.is_empty() {
            return Ok("none".into());
        }
        let lines: Vec<String> = planned
            .iter()
            .map(|p| {
                let mut line = outages::spoken_window(p.starts_at, p.ends_at, self.now, tz);
                if let Some(streets) = &p.streets {
                    line.push_str(&format!(", {}", russian::expand_abbreviations(streets)));
                }
                line
            })
            .collect();
        vars.insert("planned_list".into(), lines.join(". "));
        Ok("some".into())
    }

    async fn application_status(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let number = vars.get(APPLICATION_VAR).cloned().unwrap_or_default();
        match self.tx.application(number.trim()).await? {
            Some(application) => {
                // Imported as staff typed it: «договор направлен в ЛК, д. 3» must still be said.
                vars.insert("application_status".into(), russian::expand_abbreviations(&application.status));
                vars.insert(
                    "application_updated".into(),
                    outages::spoken_date(application.updated_at, self.now, &self.settings.timezone),
                );
                Ok("found".into())
            }
            None => Ok("unknown".into()),
        }
    }

    /// "storm" when a supervisor switched storm mode on, or when open incidents reach the threshold.
    async fn storm_mode(&mut self) -> anyhow::Result<String> {
        let storm = self.tx.storm_inputs().await?.storm_on(self.settings.storm_threshold);
        Ok(if storm { "storm" } else { "calm" }.into())
    }
}

/// The actions of outbound scripts (SPEC §8): the call is one the hotline placed.
impl StepEffects<'_> {
    /// What a dispatcher's call says: what happened, where and the ticket's number; "over" when
    /// the escalation no longer waits (someone took it meanwhile).
    async fn escalation_details(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        let Some((ticket, active)) = self.tx.placed_call_ticket(&self.call.id).await? else {
            return Ok("over".into());
        };
        let what =
            if ticket.description.trim().is_empty() { ticket.category.label() } else { ticket.description.trim() };
        vars.insert("hazard".into(), what.trim_end_matches('.').to_string());
        let place = ticket.settlement.map_or_else(|| self.phrases.settlement_unknown.clone(), |s| s.name);
        vars.insert("settlement".into(), place);
        vars.insert("ticket_number".into(), ticket.number.to_string());
        Ok(if active { "active" } else { "over" }.into())
    }

    async fn acknowledge_escalation(&mut self) -> anyhow::Result<String> {
        let acknowledged = self.tx.acknowledge_placed_call(&self.call.id, self.now).await?;
        if acknowledged {
            tracing::info!(call = %self.call.id, "escalation acknowledged by phone");
        }
        Ok(if acknowledged { "acknowledged" } else { "over" }.into())
    }
}

/// Calls when the power returns (SPEC §8): the offer after a report, and the call itself.
impl StepEffects<'_> {
    async fn power_back_offer(&mut self, ticket: Option<TicketNumber>) -> anyhow::Result<String> {
        let possible = self.settings.outbound.is_some() && self.call.callable_number().is_some();
        let incident = match ticket {
            Some(number) if possible => self.tx.open_incident_of(number).await?,
            _ => None,
        };
        Ok(if incident.is_some() { "yes" } else { "no" }.into())
    }

    async fn subscribe_power_back(&mut self, ticket: Option<TicketNumber>) -> anyhow::Result<String> {
        let number = self.call.callable_number().ok_or_else(|| anyhow::anyhow!("no number to call back"))?;
        let Some(incident) = self.tx.open_incident_of(Self::made(ticket)?).await? else { return Ok("over".into()) };
        let added = self.tx.subscribe_power_back(&incident, number.as_str(), &self.call.id, ticket, self.now).await?;
        Ok(if added { "subscribed" } else { "already" }.into())
    }

    async fn power_back_call(&mut self) -> anyhow::Result<crate::store::PowerBackCall> {
        self.tx.power_back_call(&self.call.id).await?.ok_or_else(|| anyhow::anyhow!("not a power-back call"))
    }

    async fn power_back_details(&mut self, vars: &mut BTreeMap<String, String>) -> anyhow::Result<String> {
        vars.insert("settlement".into(), self.power_back_call().await?.settlement.name);
        Ok(crate::ivr::actions::NEXT.into())
    }

    /// A new outage report from the subscriber, grouped like a caller's: the incident they were
    /// told about is reopened for it (or the settlement's other open one takes it).
    async fn power_still_off(
        &mut self,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        made: &mut Option<TicketNumber>,
    ) -> anyhow::Result<String> {
        let call = self.power_back_call().await?;
        self.tx.reopen_for_report(&call, self.now).await?;
        let new = NewTicket {
            category: Category::Outage,
            priority: Category::Outage.default_priority(),
            channel: Channel::Phone,
            status: Status::New,
            caller_number: crate::phone::PhoneNumber::parse(&call.phone).ok(),
            settlement_id: Some(call.settlement.id),
            address: None,
            description: args.get("description").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
            recording_url: None,
            recording_duration_s: None,
            call_id: Some(self.call.id.clone()),
            assignee_id: None,
            actor: "ivr".into(),
            incident_window_s: Some(self.settings.incident_window_s),
            escalation: Some(self.policies.clone()),
        };
        let ticket = self.tx.create_ticket(&new, self.now).await?;
        tracing::info!(number = %ticket.number, incident = %call.incident_id, "power still off after a power-back call");
        vars.insert("ticket_number".into(), ticket.number.to_string());
        *made = Some(ticket.number);
        Ok(crate::ivr::actions::NEXT.into())
    }
}

impl Effects for StepEffects<'_> {
    async fn perform(
        &mut self,
        action: &str,
        args: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        ticket: &mut Option<TicketNumber>,
    ) -> anyhow::Result<String> {
        match action {
            "lookup_settlement" => self.lookup_settlement(vars).await,
            "choose_settlement" => self.choose_settlement(vars, false),
            "confirm_settlement" => self.choose_settlement(vars, true),
            "returning_outage" => self.returning_outage(vars).await,
            "create_ticket" => self.create_ticket(args, vars, ticket).await,
            "update_ticket" => self.update_ticket(args, vars, *ticket).await,
            "escalate" => self.escalate(*ticket).await,
            "settlement_known" => Ok(if Self::settlement_id(vars).is_some() { "yes" } else { "no" }.into()),
            "caller_callable" => Ok(self.caller_callable().into()),
            "duty_phone" => Ok(self.duty_phone(vars).into()),
            "still_waiting" => self.still_waiting(vars).await,
            "estimate_wait" => self.estimate_wait(vars, *ticket).await,
            "request_callback" => self.request_callback().await,
            "recent_settlement" => self.recent_settlement(vars).await,
            "outage_status" => self.outage_status(vars).await,
            "planned_outages" => self.planned_outages(vars).await,
            "application_status" => self.application_status(vars).await,
            "storm_mode" => self.storm_mode().await,
            "escalation_details" => self.escalation_details(vars).await,
            "acknowledge_escalation" => self.acknowledge_escalation().await,
            "power_back_offer" => self.power_back_offer(*ticket).await,
            "subscribe_power_back" => self.subscribe_power_back(*ticket).await,
            "power_back_details" => self.power_back_details(vars).await,
            "power_still_off" => self.power_still_off(args, vars, ticket).await,
            // jambonz has no verb that records to a URL; the script sends such callers to a person.
            "recording_supported" => Ok(if self.call.dialect == Dialect::Jambonz { "no" } else { "yes" }.into()),
            other => anyhow::bail!("no implementation for action '{other}'"),
        }
    }

    async fn settlement_names(&mut self) -> anyhow::Result<Vec<String>> {
        let names = match self.hints.fresh() {
            Some(names) => names,
            None => self.hints.keep(self.tx.settlement_names().await?),
        };
        Ok(names.to_vec())
    }
}
