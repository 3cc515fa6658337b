//! What is PostgreSQL's own: pool sizing and its migrations.

use std::time::Duration;

use sqlx::Connection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// A connection idle longer than this is checked before use (a database restart, a dropped
/// network path); one in steady use is not.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

pub(super) fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(16)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // The pool's own check pings on every acquire: a round trip more for each call step.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_IDLE_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}
