//! What the internet reception accepted lately: the limits on anonymous submissions and the
//! recognition of a repeat (SPEC §7), kept in the database so they hold across instances.

use sqlx::Row;

use super::{Backend, Store, StoreResult, WriteTx, new_id, tickets};
use crate::clock::Timestamp;
use crate::queue::Ordering;
use crate::tickets::{NewTicket, Ticket};

/// How many submissions a client address and a phone number may make in a window, and how long
/// a repeat of the same text from the same phone is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebLimits {
    pub per_client: i64,
    pub per_phone: i64,
    pub window_s: i64,
    pub repeat_window_s: i64,
}

impl Default for WebLimits {
    /// SPEC §7: 10 an hour from one address, 3 an hour for one phone, repeats within 24 hours.
    fn default() -> Self {
        Self { per_client: 10, per_phone: 3, window_s: 3600, repeat_window_s: 24 * 3600 }
    }
}

/// Who sent a web submission and what, as the limits see it.
#[derive(Debug, Clone)]
pub struct WebSender {
    /// The client's address (see `client_addr`), as the key it is counted under.
    pub client: String,
    /// The phone number given, normalised.
    pub phone: Option<String>,
    /// SHA-256 (hex) of the text, folded (see `reception::text_digest`).
    pub text_digest: String,
}

/// Which limit a refused submission hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebLimit {
    Client,
    Phone,
}

#[derive(Debug, Clone)]
pub enum WebSubmission {
    /// A new ticket, queued for a person.
    Created(Box<Ticket>),
    /// The same text from the same phone came in lately: its ticket number; nothing was created.
    Repeat { number: String },
    /// Over a limit; nothing was created. `retry_after_s` is when the oldest counted submission
    /// leaves the window.
    Limited { limit: WebLimit, retry_after_s: i64 },
}

/// When the count of `times` (oldest first, all inside the window) falls below `limit` again,
/// in seconds from `now`; `None` while it is below.
fn over_limit(times: &[i64], limit: i64, window_s: i64, now: Timestamp) -> Option<i64> {
    let excess = times.len() as i64 - limit;
    if excess < 0 {
        return None;
    }
    // The submission that must leave the window before there is room for one more.
    let leaving = times[excess as usize];
    Some(((leaving + window_s * 1000 - now.millis()) + 999).div_euclid(1000).max(1))
}

/// A 64-bit key for PostgreSQL's advisory locks, from a text key.
fn lock_key(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

async fn times_since(tx: &mut WriteTx, column: &str, value: &str, since: i64) -> StoreResult<Vec<i64>> {
    // `column` is one of two names written below, never input.
    let sql = format!("SELECT at FROM web_submissions WHERE {column} = $1 AND at > $2 ORDER BY at");
    Ok(sqlx::query(&sql)
        .bind(value)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>("at"))
        .collect::<Result<_, _>>()?)
}

impl Store {
    /// The text of the ticket's newest note marked as the answer to its author, if any.
    pub async fn latest_answer(&self, ticket_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM ticket_notes WHERE ticket_id = $1 AND answer = 1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(ticket_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Accepts a web submission as a queued ticket unless it repeats one of the last 24 hours
    /// or its address or phone has used up the hour's submissions. The checks and the insert
    /// are one transaction, serialised per address and per phone (SQLite has one writer; on
    /// PostgreSQL advisory locks, taken in a fixed order), so instances sharing the database
    /// never let more through between them than one instance would. On SQLite it rides the
    /// write lane, so a flood of submissions shares commits instead of paying one each.
    pub async fn submit_web_ticket(
        &self,
        new: &NewTicket,
        sender: &WebSender,
        limits: &WebLimits,
        ordering: &Ordering,
        now: Timestamp,
    ) -> StoreResult<WebSubmission> {
        let backend = self.backend;
        let args = (new.clone(), sender.clone(), *limits, ordering.clone());
        self.write_with(args, move |tx, (new, sender, limits, ordering)| {
            Box::pin(submit_in(tx, backend, new, sender, limits, ordering, now))
        })
        .await
    }
}

async fn submit_in(
    tx: &mut WriteTx,
    backend: Backend,
    new: &NewTicket,
    sender: &WebSender,
    limits: &WebLimits,
    ordering: &Ordering,
    now: Timestamp,
) -> StoreResult<WebSubmission> {
    if backend == Backend::Postgres {
        let mut keys = vec![lock_key(&format!("web-client:{}", sender.client))];
        keys.extend(sender.phone.as_ref().map(|p| lock_key(&format!("web-phone:{p}"))));
        keys.sort_unstable();
        for key in keys {
            // Selected through a count: the lock function itself returns `void`.
            sqlx::query("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
    }
    // What no window looks at any more goes, so the table stays a day's worth.
    sqlx::query("DELETE FROM web_submissions WHERE at <= $1")
        .bind(now.millis() - limits.repeat_window_s.max(limits.window_s) * 1000)
        .execute(&mut *tx)
        .await?;
    if let Some(phone) = &sender.phone {
        let earlier: Option<i64> = sqlx::query_scalar(
            "SELECT ticket_number FROM web_submissions WHERE phone = $1 AND text_digest = $2 AND at > $3 \
             ORDER BY at LIMIT 1",
        )
        .bind(phone)
        .bind(&sender.text_digest)
        .bind(now.millis() - limits.repeat_window_s * 1000)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(number) = earlier {
            return Ok(WebSubmission::Repeat { number: number.to_string() });
        }
    }
    let since = now.millis() - limits.window_s * 1000;
    let mut refusal: Option<(WebLimit, i64)> = None;
    let by_client = times_since(tx, "client", &sender.client, since).await?;
    if let Some(wait) = over_limit(&by_client, limits.per_client, limits.window_s, now) {
        refusal = Some((WebLimit::Client, wait));
    }
    if let Some(phone) = &sender.phone {
        let by_phone = times_since(tx, "phone", phone, since).await?;
        if let Some(wait) = over_limit(&by_phone, limits.per_phone, limits.window_s, now) {
            // Both used up: the later of the two is when a submission can get through.
            if refusal.is_none_or(|(_, other)| wait > other) {
                refusal = Some((WebLimit::Phone, wait));
            }
        }
    }
    if let Some((limit, retry_after_s)) = refusal {
        return Ok(WebSubmission::Limited { limit, retry_after_s });
    }
    let ticket = tickets::insert_queued_ticket(tx, backend, new, ordering, now).await?;
    let number = ticket.number.get();
    sqlx::query(
        "INSERT INTO web_submissions (id, at, client, phone, text_digest, ticket_number) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(now.millis())
    .bind(&sender.client)
    .bind(sender.phone.as_deref())
    .bind(&sender.text_digest)
    .bind(number)
    .execute(&mut *tx)
    .await?;
    Ok(WebSubmission::Created(Box::new(ticket)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_until_the_submission_that_makes_room_leaves_the_window() {
        let now = Timestamp(10_000_000);
        assert_eq!(over_limit(&[], 3, 3600, now), None);
        assert_eq!(over_limit(&[now.millis() - 1000, now.millis()], 3, 3600, now), None);
        let times = [now.millis() - 600_000, now.millis() - 1000, now.millis()];
        assert_eq!(over_limit(&times, 3, 3600, now), Some(3000), "the oldest leaves in 50 minutes");
        assert_eq!(over_limit(&times, 2, 3600, now), Some(3599), "two allowed: the second must leave");
        assert_eq!(over_limit(&[now.millis() - 3_599_999], 1, 3600, now), Some(1), "never less than a second");
    }

    #[test]
    fn lock_keys_differ_by_kind() {
        assert_ne!(lock_key("web-client:203.0.113.7"), lock_key("web-phone:203.0.113.7"));
        assert_eq!(lock_key("web-phone:+79101234567"), lock_key("web-phone:+79101234567"));
    }
}
