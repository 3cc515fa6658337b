//! The internet reception: what the utility's website shows without a login (outages by
//! settlement, texts, offices) and the reports visitors send, which become tickets; served as
//! JSON by [`http`] and as pages by [`pages`].

pub mod content;
pub mod http;
pub mod pages;

use std::sync::Arc;

use serde::Serialize;

use crate::clock::{Clock, Timestamp};
use crate::escalation::policy::Policies;
use crate::outages::{Incident, PlannedOutage};
use crate::phone::PhoneNumber;
use crate::queue::Ordering;
use crate::settlements::{Postcode, Settlement};
use crate::store::{LoginKeys, LoginLimit, SettlementQuery, Store, StoreError, WebLimits, WebSender, WebSubmission};
use crate::text_enum::text_enum;
use crate::tickets::{Category, Channel, NewTicket, Status, Ticket, TicketKey, TicketNumber};
pub use content::{Content, Faq, Office};

/// What the reception's JSON endpoints and pages need, and nothing else of the app.
#[derive(Clone)]
pub struct ReceptionContext {
    pub store: Store,
    pub clock: Clock,
    pub content: Arc<Content>,
    pub ordering: Ordering,
    /// Reports of no power and hazards join their settlement's incident within this window,
    /// as phone reports do.
    pub incident_window_s: i64,
    /// A hazard from the web escalates at once under these.
    pub policies: Arc<Policies>,
    /// The zone the pages show times in.
    pub timezone: jiff::tz::TimeZone,
}

/// How far ahead the public schedule reaches.
const PUBLIC_HORIZON_S: i64 = 14 * 24 * 3600;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SettlementOutages {
    pub settlement: Settlement,
    pub planned: Vec<PlannedOutage>,
    pub incident: Option<Incident>,
}

/// The most settlements one search shows: a name like «Ново» matches many.
const MAX_SEARCH_RESULTS: usize = 20;

/// What a visitor searches outages by: a postcode (six digits) or a part of a settlement's name.
pub fn settlement_query(text: &str) -> Result<SettlementQuery, String> {
    let text = text.trim();
    if text.chars().count() < 2 || text.chars().count() > 100 {
        return Err(
            "Введите название населённого пункта (не меньше двух букв) или почтовый индекс из шести цифр".into()
        );
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let postcode =
            Postcode::parse(text).map_err(|_| "Почтовый индекс — это шесть цифр, например 152610".to_string())?;
        return Ok(SettlementQuery { postcode: Some(postcode.as_str().to_string()), name: None });
    }
    Ok(SettlementQuery { postcode: None, name: Some(text.to_string()) })
}

/// Each settlement matching `query` (at most twenty): its planned outages of the public horizon
/// and its open incident.
pub async fn outages_for(
    store: &Store,
    query: &SettlementQuery,
    now: Timestamp,
) -> Result<Vec<SettlementOutages>, StoreError> {
    let mut out = Vec::new();
    for settlement in store.find_settlements(query).await?.into_iter().take(MAX_SEARCH_RESULTS) {
        let planned = store.planned_outages(Some(settlement.id), None, now, now.plus_seconds(PUBLIC_HORIZON_S)).await?;
        let incident = store.open_incident(settlement.id).await?;
        out.push(SettlementOutages { settlement, planned, incident });
    }
    Ok(out)
}

text_enum! {
    /// What a visitor reports (SPEC §5's `kind`).
    pub enum ReportKind {
        Question = "question",
        Appeal = "appeal",
        NoPower = "no_power",
        Hazard = "hazard",
        Theft = "theft",
    }
}

impl ReportKind {
    pub fn category(self) -> Category {
        match self {
            ReportKind::Question => Category::Question,
            ReportKind::Appeal => Category::Appeal,
            ReportKind::NoPower => Category::Outage,
            ReportKind::Hazard => Category::Hazard,
            ReportKind::Theft => Category::Theft,
        }
    }

    /// As the form offers it, most urgent first (the order of `ALL`'s reverse).
    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Hazard => "Опасность для жизни: оборван провод, искрит, упала опора",
            ReportKind::NoPower => "Нет электроснабжения",
            ReportKind::Theft => "Хищение электроэнергии",
            ReportKind::Question => "Вопрос",
            ReportKind::Appeal => "Обращение (жалоба, заявление, просьба)",
        }
    }
}

/// A field a visitor filled in wrongly, and what to do about it, in Russian.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// A report as typed, before it is checked; empty fields count as not given.
#[derive(Debug, Default, Clone)]
pub struct RawReport<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    /// A settlement's name or postcode.
    pub place: Option<&'a str>,
    pub settlement_id: Option<i64>,
    pub address: Option<&'a str>,
}

/// A report that can become a ticket.
#[derive(Debug, Clone)]
pub struct Report {
    pub kind: ReportKind,
    pub text: String,
    pub name: Option<String>,
    pub phone: Option<PhoneNumber>,
    pub email: Option<String>,
    pub place: Option<String>,
    pub settlement_id: Option<i64>,
    pub address: Option<String>,
}

const MAX_TEXT: usize = 4000;

/// Free text up to `max` characters; `None` when empty.
fn text_field(field: &'static str, value: Option<&str>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.contains('\0') {
        errors.push(FieldError {
            field, message: "Уберите из текста непечатаемые символы".into()
        });
    } else if value.chars().count() > max {
        errors.push(FieldError {
            field, message: format!("Слишком длинно: не больше {max} знаков")
        });
    }
    Some(value.to_string())
}

impl Report {
    /// Checks every field and says what is wrong with each, so a form can show all at once.
    pub fn parse(raw: &RawReport<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = raw.kind.trim().parse::<ReportKind>().map_err(|_| {
            errors.push(FieldError {
                field: "kind", message: "Выберите, о чём вы сообщаете".into()
            });
        });
        let text = text_field("text", Some(raw.text), MAX_TEXT, &mut errors);
        if text.is_none() {
            errors
                .push(FieldError {
                    field: "text", message: "Опишите, что случилось или о чём вы спрашиваете".into()
                });
        }
        let name = text_field("name", raw.name, 200, &mut errors);
        let phone = text_field("phone", raw.phone, 50, &mut errors).and_then(|p| {
            PhoneNumber::parse(&p)
                .map_err(|_| {
                    errors.push(FieldError {
                        field: "phone",
                        message: "Укажите номер телефона полностью, например +7 910 123-45-67 или 8 4852 12-34-56"
                            .into(),
                    })
                })
                .ok()
        });
        let email = text_field("email", raw.email, 200, &mut errors);
        if email.as_deref().is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
            errors.push(FieldError {
                field: "email",
                message: "Адрес электронной почты выглядит так: name@example.ru".into(),
            });
        }
        let place = text_field("place", raw.place, 100, &mut errors);
        let address = text_field("address", raw.address, 500, &mut errors);
        match (kind, text) {
            (Ok(kind), Some(text)) if errors.is_empty() => {
                Ok(Self { kind, text, name, phone, email, place, settlement_id: raw.settlement_id, address })
            }
            _ => Err(errors),
        }
    }
}

/// Turns a report into a ticket through the limits and the repeat check of SPEC §7. A hazard
/// escalates at once; a report of no power or a hazard joins its settlement's incident like a
/// phone report; everything waits in the queue behind callers of its tier.
pub async fn submit(ctx: &ReceptionContext, report: Report, client_key: String) -> Result<WebSubmission, StoreError> {
    let mut settlement_id = report.settlement_id;
    let mut address = report.address.clone();
    if let (None, Some(place)) = (settlement_id, report.place.as_deref()) {
        let found = match settlement_query(place) {
            Ok(query) => ctx.store.find_settlements(&query).await?,
            Err(_) => Vec::new(),
        };
        match found.as_slice() {
            [one] => settlement_id = Some(one.id),
            // Not one we know: the visitor's words go with the address for a person to read.
            _ => {
                address = Some([place, address.as_deref().unwrap_or_default()].join(", ").trim_end_matches(", ").into())
            }
        }
    }
    let sender = WebSender {
        client: client_key,
        phone: report.phone.as_ref().map(|p| p.as_str().to_string()),
        text_digest: text_digest(&report.text),
    };
    let author: Vec<&str> = [report.name.as_deref(), report.email.as_deref()].into_iter().flatten().collect();
    let description = match author.is_empty() {
        true => report.text,
        false => format!("{}\n\nОт: {}", report.text, author.join(", ")),
    };
    let category = report.kind.category();
    let new = NewTicket {
        category,
        priority: category.default_priority(),
        channel: Channel::Web,
        status: Status::Queued,
        caller_number: report.phone,
        settlement_id,
        address,
        description,
        recording_url: None,
        recording_duration_s: None,
        call_id: None,
        assignee_id: None,
        actor: "web".into(),
        incident_window_s: Some(ctx.incident_window_s),
        escalation: (report.kind == ReportKind::Hazard).then(|| ctx.policies.clone()),
    };
    ctx.store.submit_web_ticket(&new, &sender, &WebLimits::default(), &ctx.ordering, ctx.clock.now()).await
}

/// The refusal a visitor over a limit reads, in Russian, with where to turn meanwhile: a
/// hazard must never wait for a web form.
pub fn refusal_text(limit: crate::store::WebLimit, retry_after_s: i64) -> String {
    let limits = WebLimits::default();
    let whose = match limit {
        crate::store::WebLimit::Client => format!("с вашего адреса: не больше {} в час", limits.per_client),
        crate::store::WebLimit::Phone => format!("с этим номером телефона: не больше {} в час", limits.per_phone),
    };
    let minutes = (retry_after_s + 59) / 60;
    format!(
        "Слишком много обращений {whose}. Повторите попытку через {minutes} мин. Если оборван провод, искрит \
         или есть угроза жизни — звоните 8-800-50-50-115 (бесплатно, круглосуточно) или 112."
    )
}

/// A ticket as its author sees it on the reception.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealStatus {
    pub number: String,
    pub status: Status,
    /// The status in Russian, as the page shows it.
    pub status_text: &'static str,
    pub updated_at: Timestamp,
    /// The operator's answer (the newest note marked as the answer), once there is one.
    pub answer: Option<String>,
}

pub fn status_text(status: Status) -> &'static str {
    match status {
        Status::New => "Зарегистрировано",
        Status::Queued => "Зарегистрировано, ожидает рассмотрения",
        Status::InProgress => "В работе у специалиста",
        Status::Escalated => "Передано дежурному диспетчеру",
        Status::Resolved => "Рассмотрено",
        Status::Closed => "Закрыто",
        Status::Cancelled => "Отменено",
    }
}

/// The last four digits of the author's phone, as the status lookup asks for them.
pub fn phone_last4(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err("Введите последние четыре цифры телефона, указанного в обращении, например 4567".into())
    }
}

/// Four digits are a secret of ten thousand values: wrong guesses at one appeal's number, or
/// from one client address, are counted like failed logins, and after this many in this long
/// further lookups wait (trying every ending of one number would take weeks).
pub const STATUS_LOOKUP_LIMIT: LoginLimit = LoginLimit { failures: 10, window_ms: 60 * 60 * 1000 };

/// What a status lookup found.
#[derive(Debug)]
pub enum StatusLookup {
    Found(Box<AppealStatus>),
    /// No appeal with that number and a phone ending in those digits.
    NotFound,
    /// Too many wrong guesses lately: nothing was looked up.
    Throttled {
        retry_after_s: u64,
    },
}

/// What a visitor over [`STATUS_LOOKUP_LIMIT`] is told.
pub fn lookups_throttled(retry_after_s: u64) -> String {
    format!(
        "Слишком много неудачных попыток проверить обращение. Повторите через {} мин. или позвоните 8-800-50-50-115.",
        retry_after_s.div_ceil(60).max(1)
    )
}

/// The ticket `number` for its author: found only when the phone on it ends in `last4`, so a
/// number alone tells a stranger nothing; wrong guesses are throttled ([`STATUS_LOOKUP_LIMIT`]).
pub async fn appeal_status(
    ctx: &ReceptionContext,
    number: TicketNumber,
    last4: &str,
    client: &str,
) -> Result<StatusLookup, StoreError> {
    let now = ctx.clock.now();
    let (appeal, address) = (format!("appeal-status {number}"), format!("appeal-status {client}"));
    let keys = LoginKeys { username: &appeal, address: &address };
    let attempt = match ctx.store.count_login_attempt(keys, STATUS_LOOKUP_LIMIT, now).await? {
        Ok(attempt) => attempt,
        Err(until) => {
            let retry_after_s = ((until.millis() - now.millis()).max(1) as u64).div_ceil(1000);
            return Ok(StatusLookup::Throttled { retry_after_s });
        }
    };
    let ticket: Option<Ticket> = ctx.store.ticket(&TicketKey::Number(number)).await?;
    let Some(ticket) = ticket.filter(|t| t.caller_number.as_deref().is_some_and(|p| p.ends_with(last4))) else {
        return Ok(StatusLookup::NotFound);
    };
    ctx.store.login_succeeded(&attempt, STATUS_LOOKUP_LIMIT, now).await?;
    let answer = ctx.store.latest_answer(&ticket.id).await?;
    Ok(StatusLookup::Found(Box::new(AppealStatus {
        number: ticket.number.to_string(),
        status: ticket.status,
        status_text: status_text(ticket.status),
        updated_at: ticket.updated_at,
        answer,
    })))
}

/// The longest application number there is: the import takes 1 to 20 digits, which callers
/// type on a keypad too.
const APPLICATION_NUMBER_MAX: usize = 20;

/// An application number as a visitor typed it: digits only once the spaces around are gone.
pub fn application_number(raw: &str) -> Result<String, String> {
    let number = raw.trim();
    if number.is_empty() {
        return Err("Введите номер заявки — он указан в личном кабинете и в документах, выданных при подаче".into());
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Номер заявки состоит только из цифр, например 20261234".into());
    }
    if number.len() > APPLICATION_NUMBER_MAX {
        return Err(format!("Номер заявки не длиннее {APPLICATION_NUMBER_MAX} цифр: проверьте, не лишние ли цифры"));
    }
    Ok(number.to_string())
}

/// Wrong application numbers from one client address, counted like failed logins. The number
/// alone is all a lookup needs, as on the phone (menu 4, then 3), and it tells only a status and
/// a date, never the applicant; the limit keeps one address from walking through the numbers.
pub const APPLICATION_LOOKUP_LIMIT: LoginLimit = LoginLimit { failures: 10, window_ms: 60 * 60 * 1000 };

/// What a visitor learns about a connection application: its status as staff wrote it, and when.
#[derive(Debug)]
pub struct ApplicationStatus {
    pub number: String,
    pub status: String,
    pub updated_at: Timestamp,
}

/// What an application lookup found.
#[derive(Debug)]
pub enum ApplicationLookup {
    Found(ApplicationStatus),
    NotFound,
    /// Too many unknown numbers from this address lately: nothing was looked up.
    Throttled {
        retry_after_s: u64,
    },
}

/// What a visitor over [`APPLICATION_LOOKUP_LIMIT`] is told.
pub fn application_lookups_throttled(retry_after_s: u64) -> String {
    format!(
        "Слишком много запросов с неверным номером заявки. Повторите через {} мин. или позвоните 8-800-50-50-115.",
        retry_after_s.div_ceil(60).max(1)
    )
}

/// The connection application `number` (checked by [`application_number`]): its status and
/// date, never who applied; unknown numbers count against the client ([`APPLICATION_LOOKUP_LIMIT`]).
pub async fn application_status(
    ctx: &ReceptionContext,
    number: &str,
    client: &str,
) -> Result<ApplicationLookup, StoreError> {
    let now = ctx.clock.now();
    // Both counters are the client's: a number is no secret to guard, as an appeal's is.
    let key = format!("application-status {client}");
    let keys = LoginKeys { username: &key, address: &key };
    let attempt = match ctx.store.count_login_attempt(keys, APPLICATION_LOOKUP_LIMIT, now).await? {
        Ok(attempt) => attempt,
        Err(until) => {
            let retry_after_s = ((until.millis() - now.millis()).max(1) as u64).div_ceil(1000);
            return Ok(ApplicationLookup::Throttled { retry_after_s });
        }
    };
    let Some(application) = ctx.store.application(number).await? else {
        return Ok(ApplicationLookup::NotFound);
    };
    ctx.store.login_succeeded(&attempt, APPLICATION_LOOKUP_LIMIT, now).await?;
    Ok(ApplicationLookup::Found(ApplicationStatus {
        number: application.number,
        status: application.status,
        updated_at: application.updated_at,
    }))
}

/// What makes two texts "the same" for the repeat check: letters in one case and runs of
/// white space as one, so a resubmission with a stray space or capital is still recognised.
pub fn text_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    hex::encode(Sha256::digest(folded.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_differing_in_spaces_or_case_are_the_same_text() {
        assert_eq!(text_digest("Нет света  на ул. Ленина\n"), text_digest("нет света на УЛ. ленина"));
        assert_ne!(text_digest("Нет света на ул. Ленина"), text_digest("Нет света на ул. Мира"));
    }

    #[test]
    fn an_application_number_is_up_to_twenty_digits_and_each_refusal_says_why_in_russian() {
        assert_eq!(application_number(" 20261234 ").as_deref(), Ok("20261234"));
        assert!(application_number("  ").unwrap_err().starts_with("Введите номер заявки"));
        assert!(application_number("2026-12АБ").unwrap_err().starts_with("Номер заявки состоит только из цифр"));
        assert!(application_number(&"1".repeat(21)).unwrap_err().contains("не длиннее 20 цифр"));
        assert!(application_number(&"1".repeat(33)).is_err());
    }
}
