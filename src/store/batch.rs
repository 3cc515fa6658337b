//! Group commit for SQLite: call webhooks share write transactions on a thread of their own.
//!
//! SQLite has one write lock, so call steps run one after the other whatever we do; what we can
//! choose is how long each holds it. Run on the request's runtime, each statement of a step waits
//! for its task to be polled again behind every other request, and each step pays its own fsync.
//! Here one task on a dedicated thread takes the steps in arrival order: it opens a transaction,
//! runs every step that is waiting, commits once, and only then answers each of them. A lone
//! step is committed at once. The statements run on that thread too, on a connection of the
//! lane's own (see `in_thread`).
//!
//! A step that fails (or panics) must undo only itself. Savepoints would do that, but SQLite
//! then copies every page each step changes, to a temporary file once past 64 KiB: a quarter of
//! the lane's time. Failures are bugs or a broken database, so the lane bets on success instead:
//! when a step fails, it rolls the whole batch back, answers that step with its error, and runs
//! the batch's other steps again (each `work` may therefore run more than once).
//!
//! The store's other writes (operators, the escalation worker...) keep a pooled connection. The
//! two take turns through a fair lock instead of SQLite's busy handler, whose growing sleeps
//! would let a steady stream of call steps starve them.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

use super::in_thread::InThreadConnection;
use super::{Backend, CallTx, StoreError, StoreResult, WriteTx};

/// Steps in one transaction at most, so a flood still commits (and answers) every few ms.
const MAX_BATCH: usize = 64;
/// Steps waiting for the lane at most; more wait for a place (back-pressure on the webhooks).
const QUEUE: usize = 1024;

/// Runs a step in the lane's transaction: `true` if it succeeded.
type Run = Box<dyn for<'t> FnMut(&'t mut CallTx) -> BoxFuture<'t, bool> + Send>;

/// A call step waiting for the lane.
struct Job {
    /// Runs again when its batch is redone; its last run is the one that counts.
    run: Run,
    /// Answers the caller with the last run's result, once the commit's outcome is known.
    deliver: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

/// The sending side of the lane; the thread ends when the last store holding it is dropped.
#[derive(Clone, Debug)]
pub(super) struct Lane {
    jobs: mpsc::Sender<Job>,
    /// Held by whoever writes: the lane for a batch, or another writer for its transaction.
    turn: Arc<Mutex<()>>,
}

impl Lane {
    pub(super) fn start(conn: InThreadConnection) -> std::io::Result<Self> {
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
    pub(super) async fn turn(&self) -> OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }

    /// Runs `work` in a transaction it may share with other steps (perhaps more than once: see
    /// the module's note); its result is returned once that transaction has committed.
    pub(super) async fn run<T, E>(
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
    StoreError::Unavailable(sqlx::Error::Protocol("the SQLite writer did not finish the step".into()))
}

/// Runs a call step; one that panics (a bug) returns an error instead, on either database, so
/// its writes are undone and the writer goes on.
pub(super) async fn unwind_safe<T, E: From<StoreError>>(step: BoxFuture<'_, Result<T, E>>) -> Result<T, E> {
    AssertUnwindSafe(step).catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!("a call step panicked; its writes are undone");
        Err(E::from(StoreError::Database(sqlx::Error::Protocol("the call step failed unexpectedly".into()))))
    })
}

async fn run(conn: InThreadConnection, turn: Arc<Mutex<()>>, mut jobs: mpsc::Receiver<Job>) {
    let mut tx = CallTx { tx: WriteTx::Lane(conn), backend: Backend::Sqlite };
    while let Some(first) = jobs.recv().await {
        let _turn = turn.lock().await;
        if let Err(e) = execute(&mut tx, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, "cannot begin a write transaction for call steps");
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
            tracing::error!(error = %e, "a batch of call steps failed; it is rolled back");
        }
        if tx.tx.in_transaction() {
            // Nothing to keep, or the commit failed.
            if let Err(e) = execute(&mut tx, "ROLLBACK").await {
                tracing::error!(error = %e, "cannot roll back the call steps' transaction");
            }
        }
        let failure = committed.err().map(|e| e.to_string());
        for job in batch {
            (job.deliver)(match &failure {
                None => Ok(()),
                Some(e) => Err(StoreError::Unavailable(sqlx::Error::Protocol(format!("committing the step: {e}")))),
            });
        }
    }
}

/// Rolls the batch's transaction back and runs `batch` again in a new one, until every step
/// in it succeeds; a step that now fails is taken out and answered with its error.
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
