//! Group commit for SQLite: call webhooks share write transactions on a thread of their own.
//!
//! SQLite has one write lock, so call steps run one after the other whatever we do; what we can
//! choose is how long each holds it. Run on the request's runtime, each statement of a step waits
//! for its task to be polled again behind every other request, and each step pays its own fsync.
//! Here one task on a dedicated thread takes the steps in arrival order: it opens a transaction,
//! runs every step that is waiting (each on a savepoint, so a failing one undoes only itself),
//! commits once, and only then answers each of them. A lone step is committed at once. The
//! statements run on that thread too, on a connection of the lane's own (see `in_thread`).
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

/// What a step does with the shared transaction: `true` if it succeeded (its writes are kept),
/// and how to answer its caller once the commit's outcome is known.
type Settled = (bool, Box<dyn FnOnce(StoreResult<()>) + Send>);
type Job = Box<dyn for<'t> FnOnce(&'t mut CallTx) -> BoxFuture<'t, Settled> + Send>;

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

    /// Runs `work` in a transaction it may share with other steps; its result is returned once
    /// that transaction has committed.
    pub(super) async fn run<T, E>(
        &self,
        work: impl for<'t> FnOnce(&'t mut CallTx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let result = unwind_safe(work(tx)).await;
                let kept = result.is_ok();
                let deliver = move |committed: StoreResult<()>| {
                    let _ = answer.send(committed.map_err(E::from).and(result));
                };
                (kept, Box::new(deliver) as Box<dyn FnOnce(StoreResult<()>) + Send>)
            })
        });
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

async fn run(mut conn: InThreadConnection, turn: Arc<Mutex<()>>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let _turn = turn.lock().await;
        if let Err(e) = conn.batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction for call steps");
            continue;
        }
        let mut tx = CallTx { tx: WriteTx::Lane(conn), backend: Backend::Sqlite };
        let mut answers = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match step(&mut tx, job).await {
                Ok(Some(deliver)) => answers.push(deliver),
                Ok(None) => {}
                Err(e) => {
                    // The transaction itself failed: none of this batch's steps is kept.
                    tracing::error!(error = %e, "a batch of call steps failed; it is rolled back");
                    answers.clear();
                    break;
                }
            }
            if answers.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        let WriteTx::Lane(lane_conn) = tx.tx else { unreachable!("the lane's transaction is its own") };
        conn = lane_conn;
        let committed = if answers.is_empty() { Ok(()) } else { conn.batch("COMMIT") };
        if conn.in_transaction() {
            // Nothing to keep, or the commit failed.
            if let Err(e) = conn.batch("ROLLBACK") {
                tracing::error!(error = %e, "cannot roll back the call steps' transaction");
            }
        }
        let failure = committed.as_ref().err().map(|e| e.to_string());
        for deliver in answers {
            deliver(match &failure {
                None => Ok(()),
                Some(e) => Err(StoreError::Unavailable(sqlx::Error::Protocol(format!("committing the step: {e}")))),
            });
        }
    }
}

/// One step on its own savepoint. `Ok(Some)` is an answer to give after the commit; a step that
/// failed (or panicked) is undone and answered at once (`Ok(None)`); `Err` means the transaction
/// is unusable.
async fn step(tx: &mut CallTx, job: Job) -> StoreResult<Option<Box<dyn FnOnce(StoreResult<()>) + Send>>> {
    sqlx::query("SAVEPOINT step").execute(&mut tx.tx).await?;
    let (kept, deliver) = job(tx).await;
    if !kept {
        sqlx::query("ROLLBACK TO step").execute(&mut tx.tx).await?;
    }
    // Released at once, what it holds kept in the transaction: SQLite then drops the copies of
    // pages it saved to undo this step. Left open, the savepoints nest, and every page a later
    // step changes is copied again for each of them (to a temporary file past 64 KiB).
    sqlx::query("RELEASE step").execute(&mut tx.tx).await?;
    if kept {
        return Ok(Some(deliver));
    }
    deliver(Ok(()));
    Ok(None)
}
