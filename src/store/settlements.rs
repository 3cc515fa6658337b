//! Settlements: the reference data.

use sqlx::Row;

use super::{Store, StoreResult};
use crate::settlements::{Settlement, SettlementRow, fold_name};

/// A lookup by postcode, by (part of) a name, or both.
#[derive(Debug, Default, Clone)]
pub struct SettlementQuery {
    pub postcode: Option<String>,
    pub name: Option<String>,
}

fn settlement_from(row: &sqlx::any::AnyRow) -> StoreResult<Settlement> {
    Ok(Settlement {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        district: row.try_get("district")?,
        postcode: row.try_get("postcode")?,
    })
}

impl Store {
    /// Settlement names for speech hints (see [`settlement_names`]).
    pub async fn settlement_names(&self) -> StoreResult<Vec<String>> {
        settlement_names(&self.pool).await
    }

    /// Adds the rows, updating a settlement that already exists (same name and district), all in
    /// one transaction: a file is imported whole or not at all. Returns how many rows were written.
    pub async fn upsert_settlements(&self, rows: &[SettlementRow]) -> StoreResult<usize> {
        self.write_with(rows.to_vec(), |tx, rows| {
            Box::pin(async move {
                for row in rows {
                    sqlx::query(
                        "INSERT INTO settlements (name, kind, district, postcode, search_name) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, district) DO UPDATE SET \
                         kind = excluded.kind, postcode = excluded.postcode, search_name = excluded.search_name",
                    )
                    .bind(&row.name)
                    .bind(&row.kind)
                    .bind(&row.district)
                    .bind(row.postcode.as_str())
                    .bind(fold_name(&row.name))
                    .execute(&mut *tx)
                    .await?;
                }
                Ok(rows.len())
            })
        })
        .await
    }

    pub async fn count_settlements(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM settlements").fetch_one(&self.pool).await?)
    }

    pub async fn settlement(&self, id: i64) -> StoreResult<Option<Settlement>> {
        let row = sqlx::query("SELECT id, name, kind, district, postcode FROM settlements WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(settlement_from).transpose()
    }

    /// Every settlement, for checking an import file against.
    pub async fn find_all_settlements(&self) -> StoreResult<Vec<Settlement>> {
        let rows = sqlx::query("SELECT id, name, kind, district, postcode FROM settlements ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(settlement_from).collect()
    }

    /// Settlements matching the query, by name. A name matches on any part of its folded form.
    pub async fn find_settlements(&self, query: &SettlementQuery) -> StoreResult<Vec<Settlement>> {
        find_settlements(&self.pool, query).await
    }
}

/// Settlement names once each, for a recogniser's hints (as many as `find_settlements` gives).
pub(super) async fn settlement_names<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT DISTINCT name FROM settlements ORDER BY name LIMIT 200").fetch_all(executor).await?)
}

pub(super) async fn find_settlements<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    query: &SettlementQuery,
) -> StoreResult<Vec<Settlement>> {
    let pattern = query.name.as_deref().map(fold_name).filter(|n| !n.is_empty()).map(|n| format!("%{n}%"));
    let rows = sqlx::query(
        "SELECT id, name, kind, district, postcode FROM settlements \
         WHERE ($1 IS NULL OR postcode = $1) AND ($2 IS NULL OR search_name LIKE $2) \
         ORDER BY name, district LIMIT 200",
    )
    .bind(query.postcode.as_deref())
    .bind(pattern)
    .fetch_all(executor)
    .await?;
    rows.iter().map(settlement_from).collect()
}
