-- A hazard ticket made the moment a caller presses 1 escalates once the place is known, or at
-- the latest a few seconds later (SPEC §4a); the escalation worker looks every second for the
-- ones still waiting, which this index keeps to a handful of rows.
create index tickets_hazards_awaiting_escalation on tickets (created_at) where category = 'hazard' and status = 'new';
