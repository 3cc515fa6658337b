//! What is PostgreSQL's own: pool sizing and its migrations.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

pub(super) fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(16).min_connections(1).acquire_timeout(Duration::from_secs(10))
}
