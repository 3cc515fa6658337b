//! A write transaction as one sqlx executor, on the lane's connection or a pooled one.
//!
//! Either way the store's statements run on it unchanged. On SQLite every write runs on the lane
//! (see `batch`); a pooled transaction serves PostgreSQL, and on SQLite the one write that must
//! not share a commit (see `Store::begin_alone`).

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, future, stream};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, Either, Execute, Executor, Transaction};
use sqlx_core::describe::Describe;
use tokio::sync::OwnedMutexGuard;

use super::LaneError;
use super::in_thread::{InThreadConnection, Outcome};

pub(in crate::store) enum WriteTx {
    /// A transaction of its own; on SQLite it holds the writers' turn (see `Lane::turn`) until
    /// it ends.
    Pooled { tx: Transaction<'static, Any>, turn: Option<OwnedMutexGuard<()>> },
    /// The lane's connection, inside the transaction the lane began and will commit.
    Lane(InThreadConnection),
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pooled { .. } => "WriteTx::Pooled",
            Self::Lane(_) => "WriteTx::Lane",
        })
    }
}

impl WriteTx {
    pub(in crate::store) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Pooled { tx, turn } => {
                let committed = tx.commit().await;
                drop(turn);
                committed
            }
            // The lane commits once every step of its batch has run.
            Self::Lane(_) => Err(LaneError::CommitRefused.into()),
        }
    }

    /// Whether a transaction is open on the lane's connection (SQLite ends one itself after
    /// some errors).
    pub(super) fn in_transaction(&self) -> bool {
        match self {
            Self::Pooled { .. } => true,
            Self::Lane(conn) => conn.in_transaction(),
        }
    }

    fn run<'q>(conn: &InThreadConnection, mut query: impl Execute<'q, Any>) -> Result<Outcome, sqlx::Error> {
        let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
        conn.run(query.sql(), arguments)
    }
}

impl<'c> Executor<'c> for &'c mut WriteTx {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            WriteTx::Pooled { tx, .. } => (&mut **tx).fetch_many(query),
            WriteTx::Lane(conn) => match WriteTx::run(conn, query) {
                Ok(outcome) => stream::iter(outcome.into_iter().map(Ok)).boxed(),
                Err(e) => stream::once(future::ready(Err(e))).boxed(),
            },
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            WriteTx::Pooled { tx, .. } => (&mut **tx).fetch_optional(query),
            WriteTx::Lane(conn) => {
                let row = WriteTx::run(conn, query).map(|outcome| outcome.into_iter().find_map(Either::right));
                future::ready(row).boxed()
            }
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            WriteTx::Pooled { tx, .. } => (&mut **tx).prepare_with(sql, parameters),
            WriteTx::Lane(_) => future::ready(Err(LaneError::NotSupported("prepare").into())).boxed(),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            WriteTx::Pooled { tx, .. } => (&mut **tx).describe(sql),
            WriteTx::Lane(_) => future::ready(Err(LaneError::NotSupported("describe").into())).boxed(),
        }
    }
}
