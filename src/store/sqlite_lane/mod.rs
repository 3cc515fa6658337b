//! SQLite's write lane: every write of the store, run in group commits on a thread of its own.
//!
//! `batch` queues the writes and commits them in groups; `in_thread` runs their statements on
//! the lane's connection; `tx` makes that connection (or, on PostgreSQL, a pooled transaction)
//! the sqlx executor the store's statements run on. What fails in here is a [`LaneError`],
//! carried through sqlx's executor API as a database error so [`StoreError`] can recover it.

mod batch;
mod in_thread;
mod tx;

use std::borrow::Cow;
use std::sync::Arc;

use rusqlite::ffi;
use sqlx::error::{DatabaseError, ErrorKind};

pub(super) use batch::{Lane, unwind_safe};
pub(super) use in_thread::InThreadConnection;
pub(super) use tx::WriteTx;

use super::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LaneError {
    /// SQLite refused a statement (a constraint, a full disk, a damaged file).
    #[error("(code: {code}) {message}")]
    Refused {
        message: String,
        /// SQLite's extended result code.
        code: i32,
    },
    /// rusqlite failed around a statement, without a verdict of SQLite's own.
    #[error("running a statement on the write lane: {0}")]
    Driver(#[source] rusqlite::Error),
    /// A statement's placeholder is not `$N`, or has no argument bound.
    #[error("{0}")]
    Placeholder(String),
    /// The store runs statements; it neither prepares them apart nor asks for their shape.
    #[error("the SQLite write lane only runs statements; it cannot {0} one")]
    NotSupported(&'static str),
    /// A write tried to commit the transaction the lane shares between writes.
    #[error("a write cannot commit the lane's transaction: the lane commits its batch")]
    CommitRefused,
    /// The lane's thread is gone, or dropped the write unanswered.
    #[error("the SQLite write lane stopped before the write finished")]
    Stopped,
    /// The write succeeded, but the batch it shared could not begin or commit.
    #[error("committing the batch the write shared: {0}")]
    BatchFailed(#[source] Arc<StoreError>),
    /// The write's work panicked (a bug); on either database its writes are undone.
    #[error("the write failed unexpectedly (it panicked); its writes are undone")]
    Panicked,
}

impl LaneError {
    /// Whether the write may succeed if tried again: the lane or its batch failed, not the write.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Stopped | Self::BatchFailed(_))
    }
}

/// SQLite's errors as sqlx reports them, so a unique violation is still one to
/// `conflict_on_unique`.
impl From<rusqlite::Error> for LaneError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(failure, message) => {
                Self::Refused { message: message.unwrap_or_else(|| failure.to_string()), code: failure.extended_code }
            }
            other => Self::Driver(other),
        }
    }
}

/// The lane's errors travel as sqlx's database errors: sqlx's executor API allows no other.
impl DatabaseError for LaneError {
    fn message(&self) -> &str {
        match self {
            Self::Refused { message, .. } => message,
            Self::Driver(_) => "rusqlite failed on the write lane",
            Self::Placeholder(_) => "a placeholder has no argument",
            Self::NotSupported(_) => "not supported on the write lane",
            Self::CommitRefused => "a write cannot commit the lane's transaction",
            Self::Stopped => "the SQLite write lane stopped",
            Self::BatchFailed(_) => "the write lane's batch failed",
            Self::Panicked => "the write panicked",
        }
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Refused { code, .. } => Some(code.to_string().into()),
            _ => None,
        }
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        let Self::Refused { code, .. } = self else { return ErrorKind::Other };
        match *code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_failures_reach_the_store_as_what_they_are() {
        assert!(matches!(StoreError::from(LaneError::Stopped), StoreError::Unavailable(_)));
        let failed_commit = StoreError::from(LaneError::Refused { message: "disk I/O error".into(), code: 10 });
        assert!(matches!(
            StoreError::from(LaneError::BatchFailed(Arc::new(failed_commit))),
            StoreError::Unavailable(_)
        ));
        match StoreError::from(LaneError::CommitRefused) {
            StoreError::Database(sqlx::Error::Database(e)) => {
                assert!(matches!(e.try_downcast_ref::<LaneError>(), Some(LaneError::CommitRefused)), "{e}");
            }
            other => panic!("expected a database error, got {other:?}"),
        }
        let duplicate = LaneError::Refused { message: "UNIQUE".into(), code: ffi::SQLITE_CONSTRAINT_UNIQUE };
        let conflict = crate::store::conflict_on_unique(duplicate.into(), || "taken".into());
        assert!(matches!(conflict, StoreError::Conflict(why) if why == "taken"));
    }
}
