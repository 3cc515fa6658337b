//! The commit ceiling `hotline storm` measures beside the fixed-TwiML one: each webhook commits
//! one row in a write transaction of its own, the least a server that keeps what it answered
//! can do per webhook without sharing commits between them.

use super::{Store, StoreResult};

impl Store {
    /// Makes the commit ceiling's table, empty (a scratch table, dropped by
    /// [`Store::drop_commit_ceiling`]; one a killed storm left behind is replaced).
    pub async fn create_commit_ceiling(&self) -> StoreResult<()> {
        self.drop_commit_ceiling().await?;
        sqlx::query("CREATE TABLE storm_commit_ceiling (body TEXT NOT NULL)").execute(&self.pool).await?;
        Ok(())
    }

    /// Commits `body` as one row, in a write transaction of its own (see [`Store::begin_alone`]:
    /// on SQLite, outside the group-commit lane every other write takes).
    pub async fn commit_ceiling_row(&self, body: &str) -> StoreResult<()> {
        let mut tx = self.begin_alone().await?;
        sqlx::query("INSERT INTO storm_commit_ceiling (body) VALUES ($1)").bind(body).execute(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn drop_commit_ceiling(&self) -> StoreResult<()> {
        sqlx::query("DROP TABLE IF EXISTS storm_commit_ceiling").execute(&self.pool).await?;
        Ok(())
    }
}
