-- Escalations of emergencies to dispatchers: the policy is copied in when one starts, and every
-- notification is a row with a due time, so a restart delays steps but never loses them.

create table escalations (
    id              text primary key,
    ticket_id       text not null references tickets (id),
    -- What makes a second start of the same escalation a no-op.
    dedup_key       text not null unique,
    state           text not null check (state in ('active', 'acknowledged', 'resolved')),
    policy          text not null,
    -- The policy's steps as they were when the escalation started (JSON).
    policy_snapshot text not null,
    created_at      bigint not null,
    acknowledged_by text,
    acknowledged_at bigint,
    resolved_at     bigint,
    resolution_note text
);
create index escalations_by_state on escalations (state, created_at);

create table escalation_steps (
    escalation_id text not null references escalations (id),
    ord           bigint not null,
    due_at        bigint not null,
    fired_at      bigint,
    -- Who is told at this step (JSON list of {name, email}).
    recipients    text not null,
    channel       text not null,
    primary key (escalation_id, ord)
);
create index escalation_steps_due on escalation_steps (fired_at, due_at);

create table escalation_log (
    id            integer primary key,
    escalation_id text not null references escalations (id),
    at            bigint not null,
    actor         text not null,
    kind          text not null,
    detail        text
);
create index escalation_log_by_escalation on escalation_log (escalation_id, id);
