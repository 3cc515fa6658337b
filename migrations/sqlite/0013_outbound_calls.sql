-- Calls the hotline places (SPEC §8). Each is a row first, like a message in the outbox: a
-- dialer claims it, asks the provider to place it, and keeps every attempt, so a restart or a
-- provider outage delays a call but neither drops it nor places it twice.

create table outbound_calls (
    id              text primary key,
    -- One call per purpose and number: firing a step twice could not ring anyone twice.
    dedup_key       text not null unique,
    purpose         text not null check (purpose in ('escalation')),
    escalation_id   text references escalations (id),
    step_ord        bigint,
    recipient_name  text not null,
    -- Who acknowledges when the called party presses 1: the same address an e-mail link names.
    recipient_email text not null,
    phone           text not null,
    -- The outbound script (ivr-scripts/NAME.toml) the called party hears.
    script          text not null,
    -- pending (to be placed or retried), placed (the provider took it), answered, acknowledged,
    -- and the ends without an acknowledgement: busy, no-answer, failed, canceled, refused
    -- (the provider refused every attempt), dropped (nothing left to call about).
    status          text not null,
    created_at      bigint not null,
    attempts        bigint not null default 0,
    next_attempt_at bigint not null,
    -- A dialer holds a call while it asks the provider; an expired claim lets another try.
    claimed_until   bigint,
    placed_at       bigint,
    provider_sid    text,
    last_error      text,
    -- Our call record once the called party answered (the provider then drives it by webhooks).
    call_id         text unique,
    answered_at     bigint,
    ended_at        bigint
);
create index outbound_calls_due on outbound_calls (status, next_attempt_at);
create index outbound_calls_by_escalation on outbound_calls (escalation_id, step_ord);

-- Every request to the provider, with the call's sid it gave or the error.
create table outbound_attempts (
    id           integer primary key,
    outbound_id  text not null references outbound_calls (id),
    at           bigint not null,
    provider_sid text,
    error        text
);
create index outbound_attempts_by_call on outbound_attempts (outbound_id, id);
