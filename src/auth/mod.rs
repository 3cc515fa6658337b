//! Accounts: roles, argon2 password hashes and expiring bearer tokens (stored hashed); the
//! extractors that turn a request's token into a user with a role are in [`http`].

pub mod http;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::client_addr::ClientAddr;
use crate::clock::{Clock, Timestamp};
use crate::error::ApiError;
use crate::store::{LoginKeys, LoginLimit, Store, StoreError};
use crate::text_enum::text_enum;

text_enum! {
    /// What a user may do, in rising order of reach; `admin` may do everything.
    pub enum Role {
        Operator = "operator",
        Dispatcher = "dispatcher",
        Supervisor = "supervisor",
        Admin = "admin",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct User {
    #[serde(skip)]
    pub id: String,
    pub username: String,
    pub role: Role,
}

impl User {
    /// Passes users of `role` or a higher one ("operator+" in the SPEC's tables).
    pub fn require_at_least(&self, role: Role) -> Result<(), ApiError> {
        if self.role as u8 >= role as u8 {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {role} role or higher; you are {}", self.role)))
        }
    }

    /// Passes users of exactly one of `roles`, and admins.
    pub fn require_one_of(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!("this is for the {} role; you are {}", names.join(" or "), self.role)))
        }
    }
}

/// A username: what people type at the login box, so kept simple.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok { Ok(()) } else { Err(format!("username '{name}' must be 1 to 64 letters, digits or . _ - @")) }
}

pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("the password must have at least 8 characters".into());
    }
    Ok(())
}

/// Argon2id with the crate's recommended parameters; slow on purpose, so run off the async threads.
pub async fn hash_password(password: &str) -> anyhow::Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// Creates a user after checking the name, password and uniqueness.
pub async fn add_user(
    store: &Store,
    username: &str,
    password: &str,
    role: Role,
    now: Timestamp,
) -> Result<User, StoreError> {
    check_username(username).map_err(StoreError::Invalid)?;
    check_password(password).map_err(StoreError::Invalid)?;
    let hash = hash_password(password).await.map_err(|e| StoreError::Invalid(e.to_string()))?;
    store.create_user(username, &hash, role, now).await
}

/// Creates the admin named by HOTLINE_BOOTSTRAP_ADMIN when there is no user at all yet.
pub async fn bootstrap_admin(store: &Store, username: &str, password: &str, now: Timestamp) -> anyhow::Result<bool> {
    if store.count_users().await? > 0 {
        return Ok(false);
    }
    add_user(store, username, password, Role::Admin, now)
        .await
        .map_err(|e| anyhow::anyhow!("HOTLINE_BOOTSTRAP_ADMIN: {e}"))?;
    Ok(true)
}

/// A fresh bearer token: 256 random bits, URL-safe.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored only as this hash, so a copy of the database logs nobody in. A fast hash
/// is enough: the token itself has 256 bits of entropy.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What logging in and checking tokens need: the sessions' store, the time, and how long a
/// session lasts.
#[derive(Clone)]
pub struct Sessions {
    pub store: Store,
    pub clock: Clock,
    pub session_hours: u32,
}

/// Login throttling (SPEC §6): after this many failed logins for one username or from one
/// client address within the window, further attempts are refused until the window has passed.
///
/// Both counters hold whichever address or name the attempt comes with: a username's counter
/// refuses its owner too while it is full, or guessing one password from many addresses would
/// not be limited at all. What keeps an attacker from locking an operator out for good is that
/// refused attempts are not counted and cost no password check: the door opens again at most
/// ten minutes after the tenth failure, however long the flood goes on, and an operator who is
/// logged in (tokens last a shift) is not affected at all. See the runbook for lifting it early.
pub const LOGIN_LIMIT: LoginLimit = LoginLimit { failures: 10, window_ms: 10 * 60 * 1000 };

/// What came of a login attempt.
pub enum LoginOutcome {
    LoggedIn {
        token: String,
        user: User,
        expires_at: Timestamp,
    },
    /// No such user, or the wrong password (the caller is not told which).
    Refused,
    /// Too many failures for the username or from the address; refused without a password
    /// check, until then.
    Throttled {
        until: Timestamp,
    },
}

/// Checks a password and opens a session, unless the username or the client address has used
/// up its failed logins ([`LOGIN_LIMIT`]): then the password is not even checked.
pub async fn login(
    sessions: &Sessions,
    username: &str,
    password: &str,
    client: ClientAddr,
) -> Result<LoginOutcome, StoreError> {
    let now = sessions.clock.now();
    let address = client.limit_key();
    let keys = LoginKeys { username, address: &address };
    // A read first, so a flood of refused attempts costs no write; then the count that decides.
    if let Some(until) = sessions.store.login_throttled_until(keys, LOGIN_LIMIT, now).await? {
        return Ok(LoginOutcome::Throttled { until });
    }
    let attempt = match sessions.store.count_login_attempt(keys, LOGIN_LIMIT, now).await? {
        Ok(attempt) => attempt,
        Err(until) => return Ok(LoginOutcome::Throttled { until }),
    };
    let credentials = sessions.store.credentials(username).await?;
    // Verify against a dummy hash for unknown users too, so timing does not reveal which names exist.
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K6kFT1m9B7ZLvOHXsYF2m9PY1v2qnP5ZrwC3XNFQwRE";
    let hash = credentials.as_ref().map_or(DUMMY, |c| c.password_hash.as_str());
    let verified = verify_password(password, hash).await;
    let Some(credentials) = credentials.filter(|_| verified) else {
        // The attempt's row stays: it is a failure now. Say so once when it closed a door.
        if let Some(until) = sessions.store.login_throttled_until(keys, LOGIN_LIMIT, now).await? {
            tracing::warn!(
                username,
                address = %address,
                until = %until,
                "logins throttled: {} failed within {} minutes for this username or from this address",
                LOGIN_LIMIT.failures,
                LOGIN_LIMIT.window_ms / 60_000
            );
        }
        return Ok(LoginOutcome::Refused);
    };
    sessions.store.login_succeeded(&attempt, LOGIN_LIMIT, now).await?;
    let token = new_token();
    let expires_at = now.plus_seconds(sessions.session_hours as i64 * 3600);
    sessions.store.create_session(&token_hash(&token), &credentials.user.id, now, expires_at).await?;
    Ok(LoginOutcome::LoggedIn { token, user: credentials.user, expires_at })
}

pub async fn logout(sessions: &Sessions, token: &str) -> Result<(), StoreError> {
    sessions.store.delete_session(&token_hash(token)).await
}

/// How often a long-lived response (an event stream) checks that its token still names a
/// session: a logout or an expiry ends it within this and a query's time (SPEC §6: 5 s).
pub const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Completes once `token` no longer names a valid session: logged out (on any instance, the
/// session is in the database), expired, or its user gone. A database that cannot be asked
/// does not end it: it is asked again at the next check.
pub async fn session_ended(sessions: Sessions, token: String) {
    let hash = token_hash(&token);
    let mut tick = tokio::time::interval(SESSION_RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sessions.store.session_user(&hash, sessions.clock.now()).await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(e) => tracing::debug!(error = %e, "could not check a stream's session; asking again later"),
        }
    }
}

/// The user a still-valid token belongs to; 401 otherwise.
pub async fn user_from_token(sessions: &Sessions, token: Option<&str>) -> Result<User, ApiError> {
    let token = token.ok_or_else(ApiError::login_required)?;
    sessions.store.session_user(&token_hash(token), sessions.clock.now()).await?.ok_or_else(ApiError::login_required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rise_in_reach() {
        let user = |role| User { id: String::new(), username: "u".into(), role };
        assert!(user(Role::Supervisor).require_at_least(Role::Dispatcher).is_ok());
        assert!(user(Role::Operator).require_at_least(Role::Dispatcher).is_err());
        assert!(user(Role::Dispatcher).require_one_of(&[Role::Operator]).is_err());
        assert!(user(Role::Admin).require_one_of(&[Role::Operator]).is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let hash = hash_password("correct horse").await.unwrap();
        assert!(verify_password("correct horse", &hash).await);
        assert!(!verify_password("wrong horse", &hash).await);
    }
}
