//! Returning callers: someone who rang within the returning window and still has an open
//! ticket is linked to it when they wait for an operator, so the operator picks it up.

use crate::tickets::Ticket;

/// How many of a caller's latest tickets are looked through for an open one.
pub const RECENT_TICKETS: i64 = 20;

/// The ticket a returning caller's queue item carries: the newest of `recent` (their latest
/// tickets within the window, newest first) that is still open; `None` when all are done.
pub fn ticket_to_link(recent: Vec<Ticket>) -> Option<Ticket> {
    recent.into_iter().find(|t| t.status.is_open())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::tickets::{Category, Channel, Priority, Status};

    fn ticket(number: &str, status: Status) -> Ticket {
        Ticket {
            id: format!("t{number}"),
            number: number.parse().unwrap(),
            category: Category::Outage,
            priority: Priority::parse(2).unwrap(),
            status,
            channel: Channel::Phone,
            caller_number: Some("+74852000000".into()),
            settlement: None,
            address: None,
            description: String::new(),
            recording_url: None,
            recording_duration_s: None,
            incident_id: None,
            call_id: None,
            assignee: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn the_newest_open_ticket_is_linked_and_finished_ones_never() {
        let recent = vec![
            ticket("100003", Status::Resolved),
            ticket("100002", Status::Queued),
            ticket("100001", Status::InProgress),
        ];
        assert_eq!(ticket_to_link(recent).map(|t| t.number), Some("100002".parse().unwrap()));
        let done = vec![ticket("100002", Status::Cancelled), ticket("100001", Status::Closed)];
        assert!(ticket_to_link(done).is_none());
        assert!(ticket_to_link(Vec::new()).is_none());
    }
}
