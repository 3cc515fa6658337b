//! Live updates: one poller per instance reads the event log and fans committed domain events
//! out to every client, so clients of any instance see every change; the stream itself is
//! served by [`http`].

pub mod http;

use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::store::{DomainEvent, Store};

/// How often the event log is read for news: a change reaches every console well within a second.
const POLL: Duration = Duration::from_millis(200);
/// The event log keeps a week: far more than any reconnecting console replays, and it stays small.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often old events are swept out.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The fan-out of this instance's poller.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<DomainEvent>,
    /// Set when the server shuts down: open streams end, so a graceful shutdown is not held
    /// up forever by consoles that never disconnect.
    stopping: watch::Sender<bool>,
}

impl Live {
    /// Starts the poller; it runs as long as the runtime does.
    pub async fn start(store: Store) -> anyhow::Result<Self> {
        let (sender, _) = broadcast::channel(1024);
        let mut last = store.last_event_id().await?;
        let fan_out = sender.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pruned_at: Option<tokio::time::Instant> = None;
            loop {
                tick.tick().await;
                if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                    pruned_at = Some(tokio::time::Instant::now());
                    let before = jiff::Timestamp::now() - KEEP;
                    match store.prune_events(before.into()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(removed = n, "swept events older than a week out of the event log"),
                        Err(e) => tracing::warn!(error = %e, "sweeping old events failed"),
                    }
                }
                match store.events_after(last, 500).await {
                    Ok(events) => {
                        for event in events {
                            last = event.id;
                            // No receiver is fine: nobody is watching right now.
                            let _ = fan_out.send(event);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading the event log for live updates failed"),
                }
            }
        });
        Ok(Self { sender, stopping: watch::channel(false).0 })
    }

    /// Ends every open stream; called when the server starts shutting down.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}
