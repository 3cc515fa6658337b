//! What is SQLite's own: opening the file (pooled, and for the write lane), its pragmas and its
//! migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;

use super::sqlite_lane::InThreadConnection;

pub(super) static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The URL as sqlx wants it: the file is created on first start.
pub(super) fn connect_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Readers: a few connections let them go on beside the writer (WAL) without holding many
/// idle worker threads.
pub(super) fn pool_options() -> AnyPoolOptions {
    options(4)
}

/// The one connection write transactions take turns on (see `Store::writer`).
pub(super) fn writer_options() -> AnyPoolOptions {
    options(1)
}

/// Every connection's settings. WAL: readers never block the writer. FULL: a commit that was
/// answered survives a power cut, not only a crash of the process. busy_timeout: a second
/// writer waits for the lock instead of failing.
const PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

fn options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(10)).after_connect(
        |conn, _meta| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                Ok(())
            })
        },
    )
}

/// The write lane's connection to the file `url` names (opened after the pools, which create it).
pub(super) fn open_lane_connection(url: &str) -> anyhow::Result<InThreadConnection> {
    let options = SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    // The lane touches every table's newest pages over and over: a larger page cache (16 MiB
    // instead of 2) keeps them instead of reading them back from the file.
    InThreadConnection::open(path, &format!("{PRAGMAS} PRAGMA cache_size = -16384;"))
        .map_err(|e| anyhow::anyhow!("cannot open {} for the write lane: {e}", path.display()))
}
