//! Failed logins, counted per username and per client address for login throttling (SPEC §6);
//! the reception's status lookups count wrong guesses of an appeal's last four phone digits the
//! same way (keys prefixed `appeal-status`). The policies (how many, how long) are their
//! modules'; this file only counts.

use super::{Backend, Store, StoreResult, new_id};
use crate::clock::Timestamp;

/// What a login attempt is counted by.
#[derive(Debug, Clone, Copy)]
pub struct LoginKeys<'a> {
    pub username: &'a str,
    pub address: &'a str,
}

/// How many failures in how long close the door.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    pub failures: i64,
    pub window_ms: i64,
}

/// The most of a username that is kept: longer ones cannot exist (see `auth::check_username`).
const USERNAME_KEPT: usize = 64;

fn kept(username: &str) -> &str {
    match username.char_indices().nth(USERNAME_KEPT) {
        Some((cut, _)) => &username[..cut],
        None => username,
    }
}

impl Store {
    /// When the attempts of `keys` may be tried again, if either counter is full now; `None`
    /// when neither is. A read: the flood of refused attempts never takes a write lock.
    pub async fn login_throttled_until(
        &self,
        keys: LoginKeys<'_>,
        limit: LoginLimit,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let by_name = oldest_counted(&self.pool, "username", kept(keys.username), limit, now).await?;
        let by_address = oldest_counted(&self.pool, "address", keys.address, limit, now).await?;
        Ok(throttle_end([by_name, by_address], limit))
    }

    /// Counts an attempt before its password is checked: `Ok(id)` names the row that stands for
    /// it (a failure unless [`Store::login_succeeded`] removes it), `Err(until)` says it is
    /// throttled and nothing was counted. The check and the count are one step, serialised per
    /// username and per address across instances, so parallel attempts cannot all pass a count
    /// that has one place left.
    pub async fn count_login_attempt(
        &self,
        keys: LoginKeys<'_>,
        limit: LoginLimit,
        now: Timestamp,
    ) -> StoreResult<Result<String, Timestamp>> {
        let backend = self.backend;
        let keys = (kept(keys.username).to_string(), keys.address.to_string());
        self.write_with(keys, move |tx, (username, address)| {
            Box::pin(async move {
                if backend == Backend::Postgres {
                    // SQLite has one writer at a time already; PostgreSQL takes a lock per key,
                    // always the username's first, so two attempts never wait for each other in a circle.
                    for key in [format!("login username {username}"), format!("login address {address}")] {
                        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))")
                            .bind(key)
                            .fetch_one(&mut *tx)
                            .await?;
                    }
                }
                let by_name = oldest_counted(&mut *tx, "username", username, limit, now).await?;
                let by_address = oldest_counted(&mut *tx, "address", address, limit, now).await?;
                if let Some(until) = throttle_end([by_name, by_address], limit) {
                    // Nothing was written.
                    return Ok(Err(until));
                }
                let id = new_id();
                sqlx::query("INSERT INTO login_failures (id, username, address, at) VALUES ($1, $2, $3, $4)")
                    .bind(&id)
                    .bind(username)
                    .bind(address)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?;
                Ok(Ok(id))
            })
        })
        .await
    }

    /// The attempt `id` had the right password: it is not a failure. Failures older than the
    /// window are swept out while writing anyway.
    pub async fn login_succeeded(&self, id: &str, limit: LoginLimit, now: Timestamp) -> StoreResult<()> {
        self.write_with(id.to_string(), move |tx, id| {
            Box::pin(async move {
                sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                    .bind(now.millis() - limit.window_ms)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// The end of the throttle on either key: with `failures` or more in the window, the door opens
/// again when the `failures`-th newest of them leaves it. Throttled attempts are never counted,
/// so a flood cannot push that moment further away.
fn throttle_end(oldest_counted: [Option<i64>; 2], limit: LoginLimit) -> Option<Timestamp> {
    oldest_counted.into_iter().flatten().max().map(|at| Timestamp(at + limit.window_ms))
}

/// The time of the `limit.failures`-th newest failure of one key within the window, if there are that many.
async fn oldest_counted<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    column: &str,
    key: &str,
    limit: LoginLimit,
    now: Timestamp,
) -> StoreResult<Option<i64>> {
    let sql =
        format!("SELECT at FROM login_failures WHERE {column} = $1 AND at > $2 ORDER BY at DESC LIMIT 1 OFFSET $3");
    Ok(sqlx::query_scalar(&sql)
        .bind(key)
        .bind(now.millis() - limit.window_ms)
        .bind(limit.failures - 1)
        .fetch_optional(executor)
        .await?)
}
