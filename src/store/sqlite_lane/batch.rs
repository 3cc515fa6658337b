//! Group commit: the lane's thread runs the waiting writes in one transaction and commits once.
//!
//! SQLite has one write lock, so writes run one after the other whatever we do; what we can
//! choose is how long each holds it. Run on the request's runtime, each statement of a write
//! waits for its task to be polled again behind every other request, and each write pays its own
//! fsync. Here one task on a dedicated thread takes the writes in arrival order: it opens a
//! transaction, runs every write that is waiting, commits once, and only then answers each of
//! them. A lone write is committed at once. The statements run on that thread too, on a
//! connection of the lane's own (see `in_thread`).
//!
//! A write that fails (or panics) must undo only itself. Savepoints would do that, but SQLite
//! then copies every page each write changes, to a temporary file once past 64 KiB: a quarter of
//! the lane's time. Most writes succeed (call steps, the workers' claims), so the lane bets on
//! success: when a write fails, it rolls the whole batch back, answers that write with its error,
//! and runs the batch's other writes again (each `work` may therefore run more than once).
//!
//! Every write of the store comes here: call steps, operators' and dispatchers' changes, the
//! escalation and outbox workers. The one exception is `Store::begin_alone` (the commit ceiling
//! of `hotline storm`, which must not share commits): it writes on a pooled connection and takes
//! turns with the lane through a fair lock instead of SQLite's busy handler, whose growing sleeps
//! would let a steady stream of writes starve it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

use super::in_thread::InThreadConnection;
use super::{LaneError, WriteTx};
use crate::store::{Backend, CallTx, StoreError, StoreResult};

/// Writes in one transaction at most, so a flood still commits (and answers) every few ms.
const MAX_BATCH: usize = 64;
/// Writes waiting for the lane at most; more wait for a place (back-pressure on the webhooks).
const QUEUE: usize = 1024;

/// Runs a write in the lane's transaction: `true` if it succeeded.
type Run = Box<dyn for<'t> FnMut(&'t mut CallTx) -> BoxFuture<'t, bool> + Send>;

/// A write waiting for the lane.
struct Job {
    /// Runs again when its batch is redone; its last run is the one that counts.
    run: Run,
    /// Answers the caller with the last run's result, once the commit's outcome is known.
    deliver: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

/// The sending side of the lane; the thread ends when the last store holding it is dropped.
#[derive(Clone, Debug)]
pub(in crate::store) struct Lane {
    jobs: mpsc::Sender<Job>,
    /// Held by whoever writes: the lane for a batch, or another writer for its transaction.
    turn: Arc<Mutex<()>>,
}

impl Lane {
    pub(in crate::store) fn start(conn: InThreadConnection) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let turn = Arc::new(Mutex::new(()));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let lane_turn = turn.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(run(conn, lane_turn, receiver)))?;
        Ok(Self { jobs, turn })
    }

    /// The right to write, for a writer outside the lane; waits for the lane's current batch
    /// (or the writer before) to commit. Turns are served in the order they were asked for.
    pub(in crate::store) async fn turn(&self) -> OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }

    /// Runs `work` in a transaction it may share with other writes (perhaps more than once: see
    /// the module's note); its result is returned once that transaction has committed.
    pub(in crate::store) async fn run<T, E>(
        &self,
        work: impl for<'t> Fn(&'t mut CallTx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let last: Arc<std::sync::Mutex<Option<Result<T, E>>>> = Arc::default();
        let slot = last.clone();
        let job = Job {
            run: Box::new(move |tx| {
                let step = work(tx);
                let slot = slot.clone();
                Box::pin(async move {
                    let result = unwind_safe(step).await;
                    let succeeded = result.is_ok();
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    succeeded
                })
            }),
            deliver: Box::new(move |committed| {
                let result = last.lock().unwrap_or_else(|e| e.into_inner()).take();
                let result = result.unwrap_or_else(|| Err(E::from(stopped())));
                let _ = answer.send(committed.map_err(E::from).and(result));
            }),
        };
        self.jobs.send(job).await.map_err(|_| E::from(stopped()))?;
        // A job dropped unanswered (its transaction could not begin or commit) fails.
        answered.await.unwrap_or_else(|_| Err(E::from(stopped())))
    }
}

fn stopped() -> StoreError {
    LaneError::Stopped.into()
}

/// Runs a write's work; one that panics (a bug) returns an error instead, on either database, so
/// its writes are undone and the writer goes on.
pub(in crate::store) async fn unwind_safe<T, E: From<StoreError>>(step: BoxFuture<'_, Result<T, E>>) -> Result<T, E> {
    AssertUnwindSafe(step).catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!("a write panicked; its writes are undone");
        Err(E::from(LaneError::Panicked.into()))
    })
}

async fn run(conn: InThreadConnection, turn: Arc<Mutex<()>>, mut jobs: mpsc::Receiver<Job>) {
    let mut tx = CallTx { tx: WriteTx::Lane(conn), backend: Backend::Sqlite };
    while let Some(first) = jobs.recv().await {
        let _turn = turn.lock().await;
        if let Err(e) = execute(&mut tx, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, "cannot begin the write lane's transaction");
            (first.deliver)(Err(e));
            continue;
        }
        let mut batch: Vec<Job> = Vec::new();
        let mut failure = None;
        let mut next = Some(first);
        while let Some(mut job) = next.take() {
            if (job.run)(&mut tx).await {
                batch.push(job);
            } else {
                // Its writes are mixed with the batch's: undo them all, then redo the others.
                if let Err(e) = redo(&mut tx, &mut batch).await {
                    failure = Some(e);
                }
                (job.deliver)(Ok(()));
            }
            if failure.is_none() && batch.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        let committed = match failure {
            Some(e) => Err(e),
            None if batch.is_empty() => Ok(()),
            None => execute(&mut tx, "COMMIT").await,
        };
        if let Err(e) = &committed {
            tracing::error!(error = %e, "a batch of writes failed; it is rolled back");
        }
        if tx.tx.in_transaction() {
            // Nothing to keep, or the commit failed.
            if let Err(e) = execute(&mut tx, "ROLLBACK").await {
                tracing::error!(error = %e, "cannot roll back the write lane's transaction");
            }
        }
        let failure = committed.err().map(Arc::new);
        for job in batch {
            (job.deliver)(match &failure {
                None => Ok(()),
                Some(e) => Err(LaneError::BatchFailed(e.clone()).into()),
            });
        }
    }
}

/// Rolls the batch's transaction back and runs `batch` again in a new one, until every write
/// in it succeeds; a write that now fails is taken out and answered with its error.
async fn redo(tx: &mut CallTx, batch: &mut Vec<Job>) -> StoreResult<()> {
    loop {
        execute(tx, "ROLLBACK").await?;
        execute(tx, "BEGIN IMMEDIATE").await?;
        let mut failed = None;
        for (i, job) in batch.iter_mut().enumerate() {
            if !(job.run)(tx).await {
                failed = Some(i);
                break;
            }
        }
        let Some(i) = failed else { return Ok(()) };
        (batch.remove(i).deliver)(Ok(()));
    }
}

async fn execute(tx: &mut CallTx, sql: &str) -> StoreResult<()> {
    sqlx::query(sql).execute(&mut tx.tx).await?;
    Ok(())
}
