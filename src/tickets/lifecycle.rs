//! The ticket lifecycle as a state machine: the one place that says which status may follow which.
//!
//! ```text
//! new ──► queued ◄──► in_progress ──► resolved ──► closed
//!  │        │            ▲   │           │  ▲
//!  │        └─► escalated┘   └───────────┘  │ (reopen)
//!  └─► cancelled (from new, queued, in_progress)
//! ```

use rust_fsm::{StateMachine, StateMachineImpl, state_machine};

use super::Status;

/// What someone does to a ticket. Each step leads to exactly one status, so the API can name
/// the status it wants and the machine says whether that is allowed from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Enqueue,
    Take,
    Escalate,
    Resolve,
    Close,
    Cancel,
}

state_machine! {
    #[state_machine(input(crate::tickets::lifecycle::Step), state(crate::tickets::Status))]
    ticket_lifecycle(New)

    New => {
        Enqueue => Queued,
        Take => InProgress,
        Escalate => Escalated,
        Resolve => Resolved,
        Cancel => Cancelled
    },
    Queued => {
        Take => InProgress,
        Escalate => Escalated,
        Resolve => Resolved,
        Cancel => Cancelled
    },
    InProgress => {
        Enqueue => Queued,
        Escalate => Escalated,
        Resolve => Resolved,
        Cancel => Cancelled
    },
    Escalated => {
        Take => InProgress,
        Resolve => Resolved
    },
    Resolved => {
        Close => Closed,
        Take => InProgress
    }
}

impl Step {
    /// The step that leads to `status`; `new` is only ever a ticket's first status.
    pub fn toward(status: Status) -> Option<Step> {
        Some(match status {
            Status::New => return None,
            Status::Queued => Step::Enqueue,
            Status::InProgress => Step::Take,
            Status::Escalated => Step::Escalate,
            Status::Resolved => Step::Resolve,
            Status::Closed => Step::Close,
            Status::Cancelled => Step::Cancel,
        })
    }
}

/// The status after moving `from` toward `to`, or why that is impossible.
pub fn advance(from: Status, to: Status) -> Result<Status, String> {
    let refused = || format!("a ticket cannot go from {from} to {to}");
    let step = Step::toward(to).ok_or_else(refused)?;
    let mut machine: StateMachine<ticket_lifecycle::Impl> = StateMachine::from_state(from);
    machine.consume(&step).map_err(|_| refused())?;
    Ok(*machine.state())
}

/// Statuses a ticket in `from` may move to next (a ticket's `allowed_transitions`).
pub fn next_statuses(from: Status) -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|to| Step::toward(*to).is_some_and(|step| ticket_lifecycle::Impl::transition(&from, &step).is_some()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_lands_on_the_status_it_names() {
        for from in Status::ALL {
            for to in next_statuses(*from) {
                assert_eq!(advance(*from, to), Ok(to));
            }
        }
    }

    #[test]
    fn finished_tickets_stay_finished_and_new_is_only_a_start() {
        assert!(next_statuses(Status::Closed).is_empty());
        assert!(next_statuses(Status::Cancelled).is_empty());
        assert!(advance(Status::Queued, Status::New).is_err());
        assert_eq!(
            advance(Status::Closed, Status::InProgress).unwrap_err(),
            "a ticket cannot go from closed to in_progress"
        );
        assert_eq!(advance(Status::Resolved, Status::InProgress), Ok(Status::InProgress));
    }
}
