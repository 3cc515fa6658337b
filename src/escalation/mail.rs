//! Messages to people: what goes into the outbox, the channels that deliver it (e-mail through
//! lettre over SMTP, or .eml files when no server is configured), and the Russian texts.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use jiff::tz::TimeZone;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::policy::Recipient;
use crate::clock::Timestamp;
use crate::config::Settings;
use crate::crews::Crew;
use crate::text_enum::text_enum;
use crate::tickets::Ticket;

text_enum! {
    pub enum Purpose {
        /// A step of an escalation: asks for an acknowledgement.
        Step = "step",
        /// Acknowledged long ago and still not resolved.
        Reminder = "reminder",
        /// A crew's job.
        Assignment = "assignment",
    }
}

/// A message to be queued; `dedup_key` makes queuing it twice a no-op.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub dedup_key: String,
    pub escalation_id: Option<String>,
    pub step_ord: Option<i64>,
    pub purpose: Purpose,
    pub channel: &'static str,
    pub recipient: Recipient,
    pub subject: String,
    pub body: String,
}

/// A queued message claimed for delivery.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: String,
    pub escalation_id: Option<String>,
    pub channel: String,
    pub recipient: Recipient,
    pub subject: String,
    pub body: String,
    /// Attempts before this one.
    pub attempts: i64,
}

pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A way to reach people. E-mail is the one there is; SMS or a webhook would be another
/// implementation, picked by the outbox row's `channel`.
pub trait Channel: Send + Sync {
    fn name(&self) -> &'static str;
    /// Delivers one message; an error is retried later, so it must say what went wrong.
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> Delivery<'a>;
}

pub const EMAIL: &str = "email";

/// E-mail through lettre: to an SMTP server, or into a folder as .eml files.
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Files { dir: PathBuf, from: Mailbox },
}

impl Mailer {
    /// SMTP when HOTLINE_SMTP_URL is set (`smtp://` plain or STARTTLS with `?tls=required`,
    /// `smtps://` TLS), else .eml files in HOTLINE_MAIL_DIR.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = format!("Горячая линия <{}>", settings.mail_from)
            .parse()
            .map_err(|e| anyhow::anyhow!("HOTLINE_MAIL_FROM: {e}"))?;
        Ok(match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("HOTLINE_SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                Self::Smtp { transport, from }
            }
            None => Self::Files { dir: settings.mail_dir.clone(), from },
        })
    }

    fn message(from: &Mailbox, m: &OutboxMessage) -> Result<Message, String> {
        let to = Mailbox::new(
            Some(m.recipient.name.clone()),
            m.recipient.email.parse().map_err(|e| format!("bad address {}: {e}", m.recipient.email))?,
        );
        // The outbox id as Message-ID: a copy that does get sent twice (a crash between the
        // server's "250 OK" and our commit) is recognisably the same message.
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<{}@hotline>", m.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| format!("cannot build the message: {e}"))
    }
}

impl Channel for Mailer {
    fn name(&self) -> &'static str {
        EMAIL
    }

    fn deliver<'a>(&'a self, m: &'a OutboxMessage) -> Delivery<'a> {
        Box::pin(async move {
            match self {
                Mailer::Smtp { transport, from } => {
                    transport.send(Self::message(from, m)?).await.map(drop).map_err(|e| format!("SMTP: {e}"))
                }
                Mailer::Files { dir, from } => {
                    let formatted = Self::message(from, m)?.formatted();
                    tokio::fs::create_dir_all(dir).await.map_err(|e| format!("{}: {e}", dir.display()))?;
                    // Named by the outbox id: writing it again replaces it, never adds a copy.
                    let path = dir.join(format!("{}.eml", m.id));
                    let partial = dir.join(format!(".{}.eml.partial", m.id));
                    tokio::fs::write(&partial, formatted).await.map_err(|e| format!("{}: {e}", partial.display()))?;
                    tokio::fs::rename(&partial, &path).await.map_err(|e| format!("{}: {e}", path.display()))
                }
            }
        })
    }
}

/// Said of a ticket whose caller's place could not be found: the caller is asked to say the
/// address, and the recording is linked from the acknowledgement page as soon as it exists.
pub const UNPLACED: &str = "Населённый пункт: не определён (адрес со слов звонящего — в записи: \
     ссылка на неё появляется на странице подтверждения и в заявке, как только звонящий договорит)";

/// The facts every message about a ticket carries.
fn ticket_facts(ticket: &Ticket, tz: &TimeZone) -> String {
    let mut lines = vec![
        format!("Заявка №{}", ticket.number),
        format!("Категория: {}", ticket.category.label()),
        format!("Приоритет: {}", ticket.priority.get()),
    ];
    match &ticket.settlement {
        Some(s) => lines.push(format!("Населённый пункт: {} ({})", s.name, s.postcode)),
        None => lines.push(UNPLACED.to_string()),
    }
    if let Some(address) = &ticket.address {
        lines.push(format!("Адрес: {address}"));
    }
    lines.push(format!("Описание: {}", ticket.description));
    if let Some(url) = &ticket.recording_url {
        lines.push(format!("Запись звонящего: {url}"));
    }
    if let Some(phone) = &ticket.caller_number {
        lines.push(format!("Телефон заявителя: {phone}"));
    }
    lines.push(format!("Время обращения: {}", local_time(ticket.created_at, tz)));
    lines.join("\n")
}

pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_jiff().to_zoned(tz.clone()).strftime("%d.%m.%Y %H:%M").to_string()
}

fn place(ticket: &Ticket) -> String {
    ticket.settlement.as_ref().map_or_else(|| "место не указано".to_string(), |s| s.name.clone())
}

/// Where the console shows the ticket (and marks its escalation) after logging in.
fn console_link(settings: &Settings, ticket: &Ticket) -> String {
    format!("{}/#ticket/{}", settings.public_url, ticket.number)
}

/// A step's message: the emergency, and the link that acknowledges it.
pub fn step_text(settings: &Settings, ticket: &Ticket, step: i64, ack_url: &str) -> (String, String) {
    let subject = format!("АВАРИЯ: {} — {}, заявка №{}", ticket.category.label(), place(ticket), ticket.number);
    let body = format!(
        "Требуется реакция дежурного (шаг эскалации {step}).\n\n{}\n\n\
         Подтвердить, что вы приняли аварию (после подтверждения следующие оповещения не отправляются):\n{ack_url}\n\n\
         Заявка в консоли диспетчера: {}\n\n\
         Если подтверждения не будет, оповещение уйдёт следующему по списку.\n-- \nГорячая линия",
        ticket_facts(ticket, &settings.timezone),
        console_link(settings, ticket),
    );
    (subject, body)
}

/// A reminder: acknowledged, still not resolved.
pub fn reminder_text(
    settings: &Settings,
    ticket: &Ticket,
    acknowledged_by: &str,
    acknowledged_at: Timestamp,
) -> (String, String) {
    let subject = format!("Напоминание: авария не закрыта — {}, заявка №{}", place(ticket), ticket.number);
    let body = format!(
        "Авария принята ({acknowledged_by}, {}), но до сих пор не закрыта.\n\n{}\n\nЗаявка в консоли диспетчера: {}\n-- \nГорячая линия",
        local_time(acknowledged_at, &settings.timezone),
        ticket_facts(ticket, &settings.timezone),
        console_link(settings, ticket),
    );
    (subject, body)
}

/// A crew's job, if the crew has an address to send it to: `what` for the subject, `facts` for the body.
pub fn crew_job(
    settings: &Settings,
    crew: &Crew,
    escalation_id: Option<&str>,
    what: &str,
    facts: &str,
) -> Vec<NewMessage> {
    let Some(email) = &crew.email else { return Vec::new() };
    let body = format!(
        "Бригаде «{}» назначен выезд.\n\n{facts}\n\nСообщите диспетчеру о прибытии на место.\n-- \nГорячая линия ({})",
        crew.name, settings.public_url
    );
    vec![NewMessage {
        // Every assignment is a new job, even of the same crew to the same emergency.
        dedup_key: format!("job:{}:{}:{}", escalation_id.unwrap_or("-"), crew.id, crate::store::new_id()),
        escalation_id: escalation_id.map(str::to_string),
        step_ord: None,
        purpose: Purpose::Assignment,
        channel: EMAIL,
        recipient: Recipient { name: crew.name.clone(), email: email.clone(), phone: None },
        subject: format!("Наряд бригаде «{}»: {what}", crew.name),
        body,
    }]
}

/// A ticket's facts for a crew's job.
pub fn ticket_job(settings: &Settings, ticket: &Ticket) -> (String, String) {
    (format!("{}, заявка №{}", place(ticket), ticket.number), ticket_facts(ticket, &settings.timezone))
}
