//! The call lifecycle as a state machine. Provider status callbacks arrive late, twice or out
//! of order; a step the machine does not allow is simply not taken (and logged), so a stale
//! "ringing" can never revive a finished call.

use rust_fsm::{StateMachine, state_machine};

use crate::text_enum::text_enum;

text_enum! {
    pub enum CallStatus {
        Ringing = "ringing",
        InIvr = "in_ivr",
        Queued = "queued",
        Connected = "connected",
        Completed = "completed",
        Abandoned = "abandoned",
        Failed = "failed",
    }
}

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEvent {
    /// The IVR answered a step.
    Answer,
    /// The caller was put in the operator queue.
    Enqueue,
    /// The caller left the queue back into the IVR.
    Leave,
    /// The caller was connected to an operator.
    Connect,
    /// The call ended normally.
    Hangup,
    /// The provider reports busy, no answer, failed or cancelled.
    Fail,
}

state_machine! {
    #[state_machine(input(crate::calls::lifecycle::CallEvent), state(crate::calls::lifecycle::CallStatus))]
    call_lifecycle(Ringing)

    Ringing => {
        Answer => InIvr,
        Hangup => Completed,
        Fail => Failed
    },
    InIvr => {
        Answer => InIvr,
        Enqueue => Queued,
        Hangup => Completed,
        Fail => Failed
    },
    Queued => {
        Enqueue => Queued,
        Leave => InIvr,
        Connect => Connected,
        // Hanging up while waiting is abandoning the queue.
        Hangup => Abandoned,
        Fail => Abandoned
    },
    Connected => {
        // The operator's phone did not answer: the caller waits again.
        Enqueue => Queued,
        Hangup => Completed,
        Fail => Completed
    }
}

/// The status after `event`, or `None` when the lifecycle does not allow it from `status`.
pub fn after(status: CallStatus, event: CallEvent) -> Option<CallStatus> {
    let mut machine: StateMachine<call_lifecycle::Impl> = StateMachine::from_state(status);
    machine.consume(&event).ok().map(|_| *machine.state())
}

impl CallStatus {
    pub fn is_final(self) -> bool {
        matches!(self, CallStatus::Completed | CallStatus::Abandoned | CallStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_calls_stay_finished() {
        for status in [CallStatus::Completed, CallStatus::Abandoned, CallStatus::Failed] {
            for event in [CallEvent::Answer, CallEvent::Enqueue, CallEvent::Connect, CallEvent::Hangup, CallEvent::Fail]
            {
                assert_eq!(after(status, event), None, "{status} + {event:?}");
            }
        }
    }

    #[test]
    fn hanging_up_in_the_queue_is_abandoning() {
        assert_eq!(after(CallStatus::Queued, CallEvent::Hangup), Some(CallStatus::Abandoned));
        assert_eq!(after(CallStatus::InIvr, CallEvent::Hangup), Some(CallStatus::Completed));
        assert_eq!(after(CallStatus::Connected, CallEvent::Hangup), Some(CallStatus::Completed));
    }
}
