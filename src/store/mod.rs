//! The storage boundary, the only place with SQL: one [`Store`] over SQLite or PostgreSQL.
//!
//! The URL's scheme picks the database.
//!
//! Statements live in the domain files (`tickets.rs`, `users.rs`, ...), written once in a form
//! both databases accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`, `CASE`/`COALESCE`).
//! Where the databases really differ, the pair sits side by side in one function that picks by
//! [`Backend`]: `Backend::skip_locked` (row claims), `tickets::next_ticket_number`,
//! `CallTx::lock_call` (`FOR UPDATE`) and `CallTx::finish_step` (one round trip on PostgreSQL);
//! PostgreSQL's advisory locks (`logins.rs`, `reception.rs`) have no SQLite twin, its one
//! writer serialising already. `sqlite.rs` and `postgres.rs` hold what else is a database's own:
//! connecting, pool settings, migrations. Every write goes through [`Store::write`], which on
//! SQLite runs on the write lane (`sqlite_lane/`). Values cross the boundary as integers and
//! text only (times as Unix milliseconds, ids as UUID text), so one row type fits both.

mod calls;
mod crews;
mod escalations;
mod events;
mod lifecycle;
mod logins;
mod metrics;
mod outages;
mod outbound;
mod outbox;
mod postgres;
mod power_back;
mod queue;
mod reception;
mod replays;
mod settlements;
mod sqlite;
mod sqlite_lane;
mod tickets;
mod users;

pub use calls::{CallRecord, CallTx, NewCall, StoredAnswer, TicketUpdate};
pub use escalations::{DueReminder, DueStep, StepFirings};
pub use events::DomainEvent;
pub use lifecycle::{BATCH, ERASED_COLUMNS, ERASED_TEXT, Erased, KEPT_COLUMNS, Pruned};
pub use logins::{LoginKeys, LoginLimit};
pub use metrics::{MetricCounts, WatchCounts};
pub use power_back::PowerBackCall;
pub use queue::{OperatorState, QueueFigures};
pub use reception::{WebLimit, WebLimits, WebSender, WebSubmission};
pub use replays::AnswerDictionary;
pub use settlements::SettlementQuery;
pub use sqlite_lane::LaneError;
use sqlite_lane::WriteTx;
pub use tickets::{TicketFilter, TicketPage};

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What ends a claiming subquery: PostgreSQL instances skip the rows another is claiming
    /// right now instead of waiting for them. SQLite knows no row locks and needs none: its one
    /// writer already excludes every other.
    fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// The request contradicts the current state (an impossible lifecycle step, a duplicate).
    #[error("{0}")]
    Conflict(String),
    /// The request refers to something that does not exist or breaks a rule of the data.
    #[error("{0}")]
    Invalid(String),
    /// The database cannot be reached or is saturated; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Self::Unavailable(e),
            sqlx::Error::RowNotFound => Self::NotFound("row".into()),
            sqlx::Error::Database(ref db)
                if db.try_downcast_ref::<LaneError>().is_some_and(LaneError::is_unavailable) =>
            {
                Self::Unavailable(e)
            }
            e => Self::Database(e),
        }
    }
}

/// The write lane's failures keep their type inside the `sqlx::Error` the store's variants hold.
impl From<LaneError> for StoreError {
    fn from(e: LaneError) -> Self {
        sqlx::Error::from(e).into()
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where pooled write transactions run (see [`Store::begin_alone`]). SQLite has one write
    /// lock, and a connection that finds it taken sleeps in busy_timeout's back-off (1, 2, 5,
    /// 10, ... ms) however soon it is free again; so SQLite's one such writer queues for one
    /// connection of its own instead, taking turns with the lane. PostgreSQL locks rows, not the
    /// database: its writers share the pool.
    writer: AnyPool,
    /// SQLite's writes go through the group-commit lane, on a connection of its own (see `sqlite_lane`).
    lane: Option<sqlite_lane::Lane>,
    backend: Backend,
}

impl Store {
    /// Opens the database named by `url` (creating a SQLite file if needed) and brings its
    /// schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            let url = sqlite::connect_url(url);
            let pool = connect_pool(sqlite::pool_options(), &url, Backend::Sqlite).await?;
            let writer = connect_pool(sqlite::writer_options(), &url, Backend::Sqlite).await?;
            let lane = sqlite_lane::Lane::start(sqlite::open_lane_connection(&url)?)?;
            Ok(Self { pool, writer, lane: Some(lane), backend: Backend::Sqlite })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = connect_pool(postgres::pool_options(), url, Backend::Postgres).await?;
            Ok(Self { writer: pool.clone(), pool, lane: None, backend: Backend::Postgres })
        } else {
            anyhow::bail!("unsupported database URL: it must start with sqlite:// or postgres://");
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = self.migrator();
        migrator.run(&self.pool).await.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &sqlite::MIGRATOR,
            Backend::Postgres => &postgres::MIGRATOR,
        }
    }

    /// Ready to serve: the database answers and every migration this build knows is applied.
    pub async fn is_ready(&self) -> bool {
        let expected = self.migrator().iter().count() as i64;
        let applied: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await;
        matches!(applied, Ok(n) if n == expected)
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// The store's one way to write: runs `work` in a write transaction and returns its result
    /// once that has committed; an error or a panic undoes what `work` wrote and is returned.
    /// On SQLite it runs on the write lane (see `sqlite_lane`), which commits writes in groups
    /// and may run `work` again from the start when another write of its group fails, so `work`
    /// does nothing but read and write through `tx`. PostgreSQL gives each write its own pooled
    /// transaction: it locks rows, not the database, so its writers need no lane.
    pub async fn write<T, E>(
        &self,
        work: impl for<'t> Fn(&'t mut CallTx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(lane) = &self.lane {
            return lane.run(work).await;
        }
        let mut tx = CallTx { tx: self.begin_alone().await?, backend: self.backend };
        let result = sqlite_lane::unwind_safe(work(&mut tx)).await?;
        tx.tx.commit().await.map_err(StoreError::from)?;
        Ok(result)
    }

    /// [`Store::write`] for the store's own methods: `args` are kept for every run of `work`,
    /// which writes through the bare transaction.
    async fn write_with<A, T>(
        &self,
        args: A,
        work: impl for<'t> Fn(&'t mut WriteTx, &'t A) -> BoxFuture<'t, StoreResult<T>> + Send + Sync + 'static,
    ) -> StoreResult<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        let shared = Arc::new((args, work));
        self.write(move |tx| {
            let shared = shared.clone();
            Box::pin(async move {
                let (args, work) = &*shared;
                work(&mut tx.tx, args).await
            })
        })
        .await
    }

    /// A write transaction of its own on a pooled connection, never sharing its commit: how
    /// [`Store::write`] writes on PostgreSQL. On SQLite only the commit ceiling of `hotline
    /// storm` wants one (it measures a commit per webhook); it waits for its turn (see
    /// `Lane::turn`) and takes the write lock up front, so it never fails halfway upgrading a read.
    async fn begin_alone(&self) -> StoreResult<WriteTx> {
        Ok(match &self.lane {
            Some(lane) => {
                let turn = lane.turn().await;
                WriteTx::Pooled { tx: self.writer.begin_with("BEGIN IMMEDIATE").await?, turn: Some(turn) }
            }
            None => WriteTx::Pooled { tx: self.writer.begin().await?, turn: None },
        })
    }
}

async fn connect_pool(options: AnyPoolOptions, url: &str, backend: Backend) -> anyhow::Result<AnyPool> {
    options.connect(url).await.map_err(|e| {
        let hint = match backend {
            Backend::Sqlite => "check that the directory exists and is writable",
            Backend::Postgres => "check that the server is running and the URL, user and database are right",
        };
        anyhow::anyhow!("cannot open the {backend:?} database: {e} ({hint})")
    })
}

/// A new random id for a row, as text; v7 keeps ids of one table roughly in creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Turns a unique-constraint violation into a domain conflict, any other error into itself.
fn conflict_on_unique(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => e.into(),
    }
}

impl Store {
    /// A secret shared by every instance on this database (the key that signs acknowledgement
    /// links): made by `generate` the first time it is asked for, the same ever after.
    pub async fn shared_secret(&self, name: &str, generate: impl FnOnce() -> String) -> StoreResult<String> {
        self.write_with((name.to_string(), generate()), |tx, (name, candidate)| {
            Box::pin(async move {
                sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(candidate)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await?;
        Ok(sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(&self.pool).await?)
    }
}

#[cfg(feature = "tools")]
impl Store {
    /// Runs one statement (`binds` bound to `$1`, `$2`, ...) in a write transaction of its own
    /// (see [`Store::begin_alone`]: on SQLite, outside the group-commit lane every other write
    /// takes). Only for the commit-ceiling probe (`tools::commit_ceiling`), which measures the
    /// database itself with SQL of its own.
    pub async fn commit_statement(&self, sql: &str, binds: &[&str]) -> StoreResult<()> {
        let mut tx = self.begin_alone().await?;
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
