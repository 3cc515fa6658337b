//! Tickets: what a caller or a web visitor reported, its digits-only number, its lifecycle
//! and its audit trail.

pub mod http;
pub mod lifecycle;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::Timestamp;
use crate::settlements::SettlementRef;
use crate::text_enum::text_enum;

text_enum! {
    pub enum Category {
        Hazard = "hazard",
        Outage = "outage",
        Theft = "theft",
        Connection = "connection",
        Callback = "callback",
        Question = "question",
        Appeal = "appeal",
    }
}

impl Category {
    /// The category as dispatchers and crews read it.
    pub fn label(self) -> &'static str {
        match self {
            Category::Hazard => "Опасность для жизни",
            Category::Outage => "Нет электроснабжения",
            Category::Theft => "Хищение электроэнергии",
            Category::Connection => "Технологическое присоединение",
            Category::Callback => "Обратный звонок",
            Category::Question => "Вопрос",
            Category::Appeal => "Обращение",
        }
    }

    /// The priority a ticket of this category gets unless someone says otherwise: danger to
    /// life first, then people without power, then the rest.
    pub fn default_priority(self) -> Priority {
        match self {
            Category::Hazard => Priority::new(1),
            Category::Outage => Priority::new(2),
            Category::Theft | Category::Callback => Priority::new(3),
            Category::Connection | Category::Question | Category::Appeal => Priority::new(4),
        }
    }
}

/// 1 is the most urgent, 4 the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Priority(u8);

impl Priority {
    const fn new(value: u8) -> Self {
        Self(value)
    }
    pub fn parse(value: i64) -> Result<Self, String> {
        match value {
            1..=4 => Ok(Self(value as u8)),
            _ => Err(format!("priority must be from 1 (highest) to 4, not {value}")),
        }
    }
    pub fn get(self) -> i64 {
        self.0 as i64
    }
}

/// Documented as it travels: a bare integer, 1 to 4.
impl utoipa::PartialSchema for Priority {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(4))
            .description(Some("1 is the most urgent, 4 the least."))
            .into()
    }
}

impl utoipa::ToSchema for Priority {}

text_enum! {
    /// Where the ticket came from.
    pub enum Channel {
        Phone = "phone",
        Web = "web",
        Operator = "operator",
    }
}

text_enum! {
    pub enum Status {
        New = "new",
        Queued = "queued",
        InProgress = "in_progress",
        Escalated = "escalated",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

impl Status {
    /// Still being worked on: a caller with such a ticket is picked up where they left off.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Cancelled)
    }
}

/// A ticket's number: digits only, so it can be read out to a caller and typed on a keypad.
/// It travels as a string of digits in JSON, as numbers always have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketNumber(i64);

impl TicketNumber {
    /// As the database keeps it.
    pub fn get(self) -> i64 {
        self.0
    }

    /// A number the database handed out (a sequence starts at one).
    pub fn from_stored(n: i64) -> Result<Self, String> {
        if n > 0 { Ok(Self(n)) } else { Err(format!("{n} is not a ticket number")) }
    }
}

impl std::str::FromStr for TicketNumber {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let digits = !raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit());
        let n = if digits { raw.parse().ok() } else { None };
        n.ok_or_else(|| format!("'{raw}' is not a ticket number")).and_then(Self::from_stored)
    }
}

impl std::fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A ticket as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: String,
    /// Digits only, so it can be read out to a caller and typed on a keypad.
    #[schema(value_type = String)]
    pub number: TicketNumber,
    pub category: Category,
    pub priority: Priority,
    pub status: Status,
    pub channel: Channel,
    pub caller_number: Option<String>,
    pub settlement: Option<SettlementRef>,
    pub address: Option<String>,
    pub description: String,
    pub recording_url: Option<String>,
    pub recording_duration_s: Option<i64>,
    pub incident_id: Option<String>,
    pub call_id: Option<String>,
    /// The user working on it, if any.
    pub assignee: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Everything needed to open a ticket; built by the API, the IVR and the web reception.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub category: Category,
    pub priority: Priority,
    pub channel: Channel,
    pub status: Status,
    pub caller_number: Option<crate::phone::PhoneNumber>,
    pub settlement_id: Option<i64>,
    pub address: Option<String>,
    pub description: String,
    pub recording_url: Option<String>,
    pub recording_duration_s: Option<i64>,
    pub call_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Who opened it, for the audit trail (a username, `ivr` or `web`).
    pub actor: String,
    /// Outage and hazard reports join their settlement's incident when the last report came
    /// within this many seconds (outages open a new one otherwise); `None` leaves it alone.
    pub incident_window_s: Option<i64>,
    /// Policies to start an escalation under, with the ticket, when one matches it.
    pub escalation: Option<std::sync::Arc<crate::escalation::policy::Policies>>,
}

/// One line of a ticket's audit trail: who changed what, when, from which status to which.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketEvent {
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: String,
    pub author: String,
    pub text: String,
    /// The answer the ticket's author reads on the internet reception's status page.
    pub answer: bool,
    pub created_at: Timestamp,
}

/// A ticket with its history and where it may go next, as `GET /api/tickets/{id}` returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    pub notes: Vec<Note>,
    /// The statuses the lifecycle allows from `status` (the `to` of a transition), so the
    /// console offers those steps without a copy of the lifecycle of its own.
    pub allowed_transitions: Vec<Status>,
}

impl TicketDetail {
    pub fn new(ticket: Ticket, events: Vec<TicketEvent>, notes: Vec<Note>) -> Self {
        let allowed_transitions = lifecycle::next_statuses(ticket.status);
        Self { ticket, events, notes, allowed_transitions }
    }
}

/// How a ticket is named in a URL: its id, or the number a caller reads out.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketKey {
    Id(String),
    Number(TicketNumber),
}

impl TicketKey {
    pub fn parse(raw: &str) -> Option<Self> {
        if let Ok(number) = raw.parse() {
            return Some(TicketKey::Number(number));
        }
        uuid::Uuid::parse_str(raw).ok().map(|id| TicketKey::Id(id.to_string()))
    }
}

/// Text for the search box: lower case and ё folded to е, so Cyrillic search works the same
/// on both databases (neither folds Cyrillic case in LIKE by itself).
pub fn search_fold(text: &str) -> String {
    text.to_lowercase().replace('ё', "е")
}
