//! The catalogue of domain actions a script may name in `do = "..."`: what each takes, which
//! outcomes it can have and which variables it sets. The validator checks scripts against it;
//! `calls::effects` carries the actions out.

/// A parameter of an action, as written under `with = { ... }`.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub check: fn(&toml::Value) -> Result<(), String>,
}

#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub params: &'static [Param],
    /// Outcomes the script must route; an action with the single outcome `next` is routed by `next = "..."`.
    pub outcomes: &'static [&'static str],
    /// Variables the action sets for later prompts.
    pub sets: &'static [&'static str],
}

pub const NEXT: &str = "next";

fn category(value: &toml::Value) -> Result<(), String> {
    let text = value.as_str().ok_or("category must be a string")?;
    text.parse::<crate::tickets::Category>().map(|_| ())
}

fn text(value: &toml::Value) -> Result<(), String> {
    value.as_str().filter(|t| !t.trim().is_empty()).map(|_| ()).ok_or_else(|| "must be a non-empty string".into())
}

fn flag(value: &toml::Value) -> Result<(), String> {
    value.as_bool().map(|_| ()).ok_or_else(|| "must be true or false".into())
}

fn priority(value: &toml::Value) -> Result<(), String> {
    let n = value.as_integer().ok_or("priority must be a whole number")?;
    crate::tickets::Priority::parse(n).map(|_| ())
}

pub const CATALOG: &[ActionSpec] = &[
    // "heard": one settlement matched what the caller said, to be confirmed before it is used.
    ActionSpec {
        name: "lookup_settlement",
        params: &[],
        outcomes: &["found", "heard", "several", "unknown"],
        sets: &["settlement", "settlement_choices"],
    },
    ActionSpec { name: "settlement_known", params: &[], outcomes: &["yes", "no"], sets: &[] },
    ActionSpec { name: "choose_settlement", params: &[], outcomes: &["found", "unknown"], sets: &["settlement"] },
    // Yes to the one settlement offered (heard, or the returning caller's).
    ActionSpec { name: "confirm_settlement", params: &[], outcomes: &["found", "unknown"], sets: &["settlement"] },
    ActionSpec {
        name: "create_ticket",
        params: &[
            Param { name: "category", required: true, check: category },
            Param { name: "priority", required: false, check: priority },
            Param { name: "description", required: false, check: text },
            // true: the ticket waits in the operator queue (a report no other path takes up).
            Param { name: "queue", required: false, check: flag },
            // false: the escalation waits for `escalate` (a hazard reported before its place is known).
            Param { name: "escalate", required: false, check: flag },
        ],
        outcomes: &[NEXT],
        sets: &["ticket_number"],
    },
    // Adds to the call's ticket what is known now: the settlement, a recording, the description.
    ActionSpec {
        name: "update_ticket",
        params: &[Param { name: "description", required: false, check: text }],
        outcomes: &[NEXT],
        sets: &[],
    },
    ActionSpec { name: "escalate", params: &[], outcomes: &[NEXT], sets: &[] },
    // "nobody": no operator is on shift at all.
    ActionSpec { name: "estimate_wait", params: &[], outcomes: &["short", "long", "nobody"], sets: &["wait_range"] },
    // Whether the caller's number can be rung back (not withheld, a real number).
    ActionSpec { name: "caller_callable", params: &[], outcomes: &["yes", "no"], sets: &[] },
    ActionSpec { name: "duty_phone", params: &[], outcomes: &["set", "unset"], sets: &["duty_phone"] },
    // After leaving the queue: "yes" when the caller's turn still waits (they left to hear the
    // call-back offer), "no" when it is gone.
    ActionSpec { name: "still_waiting", params: &[], outcomes: &["yes", "no"], sets: &["wait_range"] },
    ActionSpec { name: "recent_settlement", params: &[], outcomes: &["known", "none"], sets: &["settlement"] },
    // Before the menu: the outage in a returning caller's settlement, as `outage_status` says it.
    ActionSpec {
        name: "returning_outage",
        params: &[],
        outcomes: &["planned", "incident", "reports", "unknown"],
        sets: &["settlement", "outage_end", "etr", "crew"],
    },
    ActionSpec {
        name: "outage_status",
        params: &[],
        // "reports": callers reported it, no dispatcher has confirmed it yet.
        outcomes: &["planned", "incident", "reports", "unknown"],
        sets: &["outage_end", "etr", "crew"],
    },
    ActionSpec { name: "planned_outages", params: &[], outcomes: &["some", "none"], sets: &["planned_list"] },
    ActionSpec {
        name: "application_status",
        params: &[],
        outcomes: &["found", "unknown"],
        sets: &["application_status", "application_updated"],
    },
    ActionSpec { name: "recording_supported", params: &[], outcomes: &["yes", "no"], sets: &[] },
    ActionSpec { name: "storm_mode", params: &[], outcomes: &["calm", "storm"], sets: &[] },
    ActionSpec { name: "request_callback", params: &[], outcomes: &["created", "duplicate"], sets: &[] },
    // After a no-power report: "yes" when the hotline places calls, the caller's number can be
    // rung and the report joined an incident — the caller may ask to hear when it is resolved.
    ActionSpec { name: "power_back_offer", params: &[], outcomes: &["yes", "no"], sets: &[] },
    // "already": this number waits for that incident's call from an earlier call; "over": the
    // incident was resolved while the caller listened, so there is nothing to wait for.
    ActionSpec { name: "subscribe_power_back", params: &[], outcomes: &["subscribed", "already", "over"], sets: &[] },
    // Outbound scripts (SPEC §8). What the escalation of a placed call is about; "over": it no
    // longer waits for an acknowledgement (someone else took it).
    ActionSpec {
        name: "escalation_details",
        params: &[],
        outcomes: &["active", "over"],
        sets: &["hazard", "settlement", "ticket_number"],
    },
    // The called party accepts: the escalation is acknowledged as by its e-mail link.
    ActionSpec { name: "acknowledge_escalation", params: &[], outcomes: &["acknowledged", "over"], sets: &[] },
    // A power-back call: the settlement the power returned to.
    ActionSpec { name: "power_back_details", params: &[], outcomes: &[NEXT], sets: &["settlement"] },
    // The subscriber says it is still off: a new outage report, the incident reopened.
    ActionSpec {
        name: "power_still_off",
        params: &[Param { name: "description", required: true, check: text }],
        outcomes: &[NEXT],
        sets: &["ticket_number"],
    },
];

pub fn find(name: &str) -> Option<&'static ActionSpec> {
    CATALOG.iter().find(|spec| spec.name == name)
}
