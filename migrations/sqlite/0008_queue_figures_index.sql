-- The figures every wait estimate reads: how many wait and since when (index-only), and the
-- latest handling times (the newest finished items, without sorting every one ever done).
-- Without it both read every such row, and a storm's pile of waiting call-back requests made
-- each estimate slower than the rest of the call step.
create index queue_items_by_state_finished on queue_items (state, finished_at, enqueued_at);
