//! The commit ceiling `hotline storm` measures beside the fixed-TwiML one: each webhook commits
//! one row in a write transaction of its own, the least a server that keeps what it answered
//! can do per webhook without sharing commits between them.
//!
//! This probe measures the database itself, so it keeps its own SQL here (a scratch table
//! `storm_commit_ceiling`, never part of the schema) rather than in the store, and runs it through
//! the store's one narrow door for it, [`Store::commit_statement`].

use crate::store::{Store, StoreResult};

/// Makes the probe's table, empty (dropped by [`drop`]; one a killed storm left behind is replaced).
pub async fn create(store: &Store) -> StoreResult<()> {
    drop(store).await?;
    store.commit_statement("CREATE TABLE storm_commit_ceiling (body TEXT NOT NULL)", &[]).await
}

/// Commits `body` as one row, in a transaction that begins as every write of the store's own does.
pub async fn commit_row(store: &Store, body: &str) -> StoreResult<()> {
    store.commit_statement("INSERT INTO storm_commit_ceiling (body) VALUES ($1)", &[body]).await
}

pub async fn drop(store: &Store) -> StoreResult<()> {
    store.commit_statement("DROP TABLE IF EXISTS storm_commit_ceiling", &[]).await
}
