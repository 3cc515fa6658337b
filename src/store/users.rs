//! Accounts and login sessions.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, conflict_on_unique, new_id};
use crate::auth::{Role, User};
use crate::clock::Timestamp;

/// A user with the hash to check a password against; never leaves the auth module.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

fn user_from(row: &sqlx::any::AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: role.parse().map_err(StoreError::Invalid)?,
    })
}

impl Store {
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        now: Timestamp,
    ) -> StoreResult<User> {
        let user = User { id: new_id(), username: username.to_string(), role };
        self.write_with((user.clone(), password_hash.to_string()), move |tx, (user, password_hash)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&user.id)
                .bind(&user.username)
                .bind(password_hash)
                .bind(user.role.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("user '{}' already exists", user.username)))?;
                Ok(())
            })
        })
        .await?;
        Ok(user)
    }

    /// The address escalations use when a step notifies the user's role.
    pub async fn set_user_email(&self, username: &str, email: &str) -> StoreResult<()> {
        self.write_with((username.to_string(), email.to_string()), |tx, (username, email)| {
            Box::pin(async move {
                let changed = sqlx::query("UPDATE users SET email = $1 WHERE username = $2")
                    .bind(email)
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("user '{username}'")));
                }
                Ok(())
            })
        })
        .await
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query("SELECT id, username, role, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(Credentials { user: user_from(&row)?, password_hash: row.try_get("password_hash")? }))
            .transpose()
    }

    /// Stores a new session and sweeps out the expired ones while it is writing anyway.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.write_with((token_hash.to_string(), user_id.to_string()), move |tx, (token_hash, user_id)| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now.millis()).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(now.millis())
                .bind(expires_at.millis())
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The user a still-valid session belongs to.
    pub async fn session_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.millis())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write_with(token_hash.to_string(), |tx, token_hash| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
                Ok(())
            })
        })
        .await
    }
}
