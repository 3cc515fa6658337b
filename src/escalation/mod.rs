//! Escalation of emergencies to dispatchers and field crews: policies (who, in what order, how
//! long to wait), escalations started with their ticket, and the dispatcher's actions on them.
//!
//! Built so far: policies, the start of an escalation in the ticket's own transaction with its
//! steps as rows with due times, listing, acknowledgement and resolution. Not yet: the worker
//! that fires due steps, e-mail, acknowledgement links and crews (issue 6).

pub mod http;
pub mod policy;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::text_enum::text_enum;
use policy::Recipient;

text_enum! {
    pub enum EscalationState {
        /// Steps fire until someone acknowledges.
        Active = "active",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

/// One notification of an escalation.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Step {
    pub order: i64,
    pub due_at: Timestamp,
    pub fired_at: Option<Timestamp>,
    pub recipients: Vec<Recipient>,
    pub channel: String,
}

/// An escalation as the API shows it (SPEC §5).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Escalation {
    pub id: String,
    pub ticket_id: String,
    pub ticket_number: String,
    pub state: EscalationState,
    /// The policy it started under; its steps were copied in at the start.
    pub policy: String,
    pub steps: Vec<Step>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub created_at: Timestamp,
}
