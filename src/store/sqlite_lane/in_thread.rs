//! The lane's connection: rusqlite on the lane's own thread, answering as sqlx's `Any` driver.
//!
//! sqlx's SQLite driver runs each connection on a worker thread of its own, so every statement
//! crosses threads twice. A call step is a handful of statements in a row, each waiting on the
//! one before; those handoffs, not SQLite, bounded how many steps a second one writer could
//! commit. Here the statements run where the step runs, through rusqlite, and come back as the
//! rows sqlx's `Any` driver would have made of them (the value's own SQLite type decides its
//! kind), so the code that reads them cannot tell the difference and every statement is written
//! once for both ways.

use std::borrow::Cow;
use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::Either;
use sqlx_core::any::{
    AnyArguments, AnyColumn, AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind,
};
use sqlx_core::ext::ustr::UStr;

use super::LaneError;

/// Prepared statements kept: every distinct statement a call step runs, with room to spare.
const STATEMENT_CACHE: usize = 128;

pub(in crate::store) struct InThreadConnection(rusqlite::Connection);

/// What one statement gave back, in the order sqlx's executors stream it.
pub(super) type Outcome = Vec<Either<AnyQueryResult, AnyRow>>;

impl InThreadConnection {
    /// Opens the database file with the same settings as the pooled connections (`sqlite.rs`).
    pub(in crate::store) fn open(path: &std::path::Path, pragmas: &str) -> rusqlite::Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(pragmas)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self(conn))
    }

    /// Runs one statement. `$N` placeholders take the N-th argument, as in sqlx's driver.
    pub(super) fn run(&self, sql: &str, arguments: Option<AnyArguments<'_>>) -> Result<Outcome, sqlx::Error> {
        let mut statement = self.0.prepare_cached(sql).map_err(LaneError::from)?;
        let arguments = arguments.map(|a| a.values.0).unwrap_or_default();
        for index in 1..=statement.parameter_count() {
            let position = match statement.parameter_name(index) {
                Some(name) => name[1..]
                    .parse::<usize>()
                    .map_err(|_| LaneError::Placeholder(format!("placeholder {name} is not $N in: {sql}")))?,
                None => index,
            };
            let value = arguments
                .get(position.wrapping_sub(1))
                .ok_or_else(|| LaneError::Placeholder(format!("no argument for placeholder {position} in: {sql}")))?;
            statement.raw_bind_parameter(index, bound(value)).map_err(LaneError::from)?;
        }
        let names: Vec<UStr> = statement.column_names().into_iter().map(UStr::new).collect();
        let mut outcome = Outcome::new();
        if names.is_empty() {
            let changed = statement.raw_execute().map_err(LaneError::from)?;
            outcome.push(Either::Left(self.result(changed as u64)));
            return Ok(outcome);
        }
        let column_names: Arc<sqlx_core::HashMap<UStr, usize>> =
            Arc::new(names.iter().enumerate().map(|(i, name)| (name.clone(), i)).collect());
        let readonly = statement.readonly();
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next().map_err(LaneError::from)? {
            let mut columns = Vec::with_capacity(names.len());
            let mut values = Vec::with_capacity(names.len());
            for (ordinal, name) in names.iter().enumerate() {
                let kind = value_kind(row.get_ref(ordinal).map_err(LaneError::from)?)?;
                let type_info = AnyTypeInfo { kind: type_of(&kind) };
                columns.push(AnyColumn { ordinal, name: name.clone(), type_info });
                values.push(AnyValue { kind });
            }
            outcome.push(Either::Right(AnyRow { column_names: column_names.clone(), columns, values }));
        }
        drop(rows);
        let changed = if readonly { 0 } else { self.0.changes() };
        outcome.push(Either::Left(self.result(changed)));
        Ok(outcome)
    }

    /// Whether a transaction is open (SQLite ends one itself after some errors).
    pub(super) fn in_transaction(&self) -> bool {
        !self.0.is_autocommit()
    }

    fn result(&self, rows_affected: u64) -> AnyQueryResult {
        AnyQueryResult { rows_affected, last_insert_id: Some(self.0.last_insert_rowid()) }
    }
}

/// An argument as SQLite stores it, as sqlx's driver binds it (a bool is 0 or 1).
fn bound<'a>(value: &'a AnyValueKind<'_>) -> ToSqlOutput<'a> {
    ToSqlOutput::Borrowed(match value {
        AnyValueKind::Null(_) => ValueRef::Null,
        AnyValueKind::Bool(b) => ValueRef::Integer(i64::from(*b)),
        AnyValueKind::SmallInt(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::Integer(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::BigInt(i) => ValueRef::Integer(*i),
        AnyValueKind::Real(r) => ValueRef::Real(f64::from(*r)),
        AnyValueKind::Double(r) => ValueRef::Real(*r),
        AnyValueKind::Text(text) => ValueRef::Text(text.as_bytes()),
        AnyValueKind::Blob(blob) => ValueRef::Blob(blob),
        // The enum is non-exhaustive; sqlx adds a kind only with a new type, which this store
        // does not bind.
        _ => ValueRef::Null,
    })
}

/// A result value as sqlx's driver maps it: by the value's own type, not the column's.
fn value_kind(value: ValueRef<'_>) -> Result<AnyValueKind<'static>, sqlx::Error> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(bytes) => AnyValueKind::Text(Cow::Owned(
            String::from_utf8(bytes.to_vec()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        )),
        ValueRef::Blob(bytes) => AnyValueKind::Blob(Cow::Owned(bytes.to_vec())),
    })
}

fn type_of(value: &AnyValueKind<'_>) -> AnyTypeInfoKind {
    match value {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{AnyPool, Column, Row};

    use super::*;
    use crate::store::sqlite_lane::WriteTx;

    /// A file database with one row of every kind of value, opened both ways.
    async fn both_ways() -> (tempfile::TempDir, AnyPool, WriteTx) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let pool = AnyPool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB, note TEXT); \
             INSERT INTO t VALUES (1, 'Углич', 2.5, x'00ff', NULL);",
        )
        .execute(&pool)
        .await
        .unwrap();
        let lane = WriteTx::Lane(InThreadConnection::open(&path, "PRAGMA foreign_keys = ON;").unwrap());
        (dir, pool, lane)
    }

    #[tokio::test]
    async fn rows_read_in_thread_decode_as_sqlx_decodes_them() {
        let (_dir, pool, mut lane) = both_ways().await;
        let sql = "SELECT id, name, score, data, note, id * 2 AS twice FROM t WHERE name = $2 AND id = $1";
        let by_sqlx = sqlx::query(sql).bind(1_i64).bind("Углич").fetch_one(&pool).await.unwrap();
        let in_thread = sqlx::query(sql).bind(1_i64).bind("Углич").fetch_one(&mut lane).await.unwrap();
        for row in [&by_sqlx, &in_thread] {
            assert_eq!(row.try_get::<i64, _>("id").unwrap(), 1);
            assert_eq!(row.try_get::<String, _>("name").unwrap(), "Углич");
            assert_eq!(row.try_get::<f64, _>("score").unwrap(), 2.5);
            assert_eq!(row.try_get::<Vec<u8>, _>("data").unwrap(), vec![0, 255]);
            assert_eq!(row.try_get::<Option<String>, _>("note").unwrap(), None);
            assert_eq!(row.try_get::<i64, _>(5).unwrap(), 2);
            assert!(row.try_get::<String, _>("id").is_err(), "an integer is not text");
        }
        let names = |row: &sqlx::any::AnyRow| row.columns().iter().map(|c| c.name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&in_thread), names(&by_sqlx));
    }

    #[tokio::test]
    async fn writes_in_thread_report_what_they_changed_and_their_conflicts() {
        let (_dir, _pool, mut lane) = both_ways().await;
        let inserted = sqlx::query("INSERT INTO t (name, score) VALUES ($1, $2) RETURNING id")
            .bind("Мышкин")
            .bind(1.0_f64)
            .fetch_one(&mut lane)
            .await
            .unwrap();
        assert_eq!(inserted.try_get::<i64, _>("id").unwrap(), 2);
        let updated = sqlx::query("UPDATE t SET note = $1").bind("проверено").execute(&mut lane).await.unwrap();
        assert_eq!(updated.rows_affected(), 2);
        let duplicate = sqlx::query("INSERT INTO t (name) VALUES ($1)").bind("Углич").execute(&mut lane).await;
        match duplicate {
            Err(sqlx::Error::Database(e)) => assert!(e.is_unique_violation(), "{e}"),
            other => panic!("expected a unique violation, got {other:?}"),
        }
        let missing = sqlx::query("SELECT $1, $2").bind(1_i64).fetch_all(&mut lane).await.err().unwrap();
        assert!(missing.to_string().contains("no argument for placeholder 2"), "{missing}");
    }
}
