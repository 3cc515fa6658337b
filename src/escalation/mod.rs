//! Escalation of emergencies to dispatchers and field crews: policies (who, in what order, how
//! long to wait), escalations started with their ticket, the worker that fires their steps and
//! delivers the mail, acknowledgement links, and the dispatcher's actions on them.

pub mod ack_link;
pub mod ack_page;
pub mod http;
pub mod mail;
pub mod policy;
pub mod worker;

use serde::Serialize;

/// A hazard reported by phone escalates when the caller's place is known or has failed, or when
/// the call ends; a caller still answering questions this long after pressing 1 does not hold
/// it back any longer: it escalates with what is known (SPEC §4a: within 45 s of the answer).
pub const HAZARD_ESCALATES_WITHIN_S: i64 = 15;

use crate::clock::Timestamp;
use crate::text_enum::text_enum;
use crate::tickets::TicketNumber;
use policy::Recipient;

text_enum! {
    pub enum EscalationState {
        /// Steps fire until someone acknowledges.
        Active = "active",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

text_enum! {
    pub enum DeliveryStatus {
        /// Not sent yet: waiting for its first attempt or its next retry.
        Pending = "pending",
        Sent = "sent",
        /// At least one attempt failed; it is retried with back-off until it goes through.
        Failing = "failing",
    }
}

/// One message to one person, and how its delivery went.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Notification {
    pub recipient: Recipient,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One step of an escalation: whom it tells and when.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Step {
    pub order: i64,
    pub due_at: Timestamp,
    pub fired_at: Option<Timestamp>,
    /// The people told when it fired; before that, whom it would tell as things stood at the start.
    pub recipients: Vec<Recipient>,
    /// `email`, or `call`: the recipients with a phone are rung as well as mailed.
    pub channel: String,
    pub notifications: Vec<Notification>,
    /// The calls the step placed, each with every attempt and its outcome.
    pub calls: Vec<crate::outbound::PlacedCall>,
}

/// An escalation as the API shows it (SPEC §5).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Escalation {
    pub id: String,
    pub ticket_id: String,
    #[schema(value_type = String)]
    pub ticket_number: TicketNumber,
    pub state: EscalationState,
    /// The policy it started under; its steps were copied in at the start.
    pub policy: String,
    pub steps: Vec<Step>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    /// The field crew the dispatcher sent.
    pub crew_id: Option<String>,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub resolution_note: Option<String>,
}

/// One line of an escalation's audit trail: a step fired, a message sent or failed, an action.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LogEntry {
    pub at: Timestamp,
    /// `system`, a username, or the address an acknowledgement link was sent to.
    pub actor: String,
    pub kind: String,
    pub detail: Option<String>,
}

/// An escalation with its whole audit trail.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct EscalationDetail {
    #[serde(flatten)]
    pub escalation: Escalation,
    pub log: Vec<LogEntry>,
}
