-- Callers who asked to be called when the power returns (SPEC §8), and the calls that tell them.

-- One per number and incident: asking twice in two calls still rings once.
create table power_back_subscriptions (
    id          text primary key,
    incident_id text not null references incidents (id),
    phone       text not null,
    -- The call in which the caller asked, and the report it followed.
    call_id     text,
    ticket_id   text references tickets (id),
    created_at  bigint not null,
    unique (incident_id, phone)
);

-- outbound_calls gains a second purpose, a subscription to tell, and recipients without an
-- e-mail address (a caller). SQLite changes a CHECK only by rebuilding the table, and its
-- attempts are rebuilt with it: the child dropped first, no foreign key is ever left dangling.

create table outbound_calls_rebuilt (
    id              text primary key,
    -- One call per purpose and number: firing a step twice could not ring anyone twice.
    dedup_key       text not null unique,
    purpose         text not null check (purpose in ('escalation', 'power_back')),
    escalation_id   text references escalations (id),
    step_ord        bigint,
    -- power_back: the caller to tell that the power is back.
    subscription_id text references power_back_subscriptions (id),
    recipient_name  text not null,
    -- Who acknowledges when the called party presses 1: the same address an e-mail link names.
    recipient_email text,
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
create table outbound_attempts_rebuilt (
    id           integer primary key,
    outbound_id  text not null references outbound_calls_rebuilt (id),
    at           bigint not null,
    provider_sid text,
    error        text
);
insert into outbound_calls_rebuilt (id, dedup_key, purpose, escalation_id, step_ord, recipient_name,
    recipient_email, phone, script, status, created_at, attempts, next_attempt_at, claimed_until,
    placed_at, provider_sid, last_error, call_id, answered_at, ended_at)
select id, dedup_key, purpose, escalation_id, step_ord, recipient_name, recipient_email, phone, script,
    status, created_at, attempts, next_attempt_at, claimed_until, placed_at, provider_sid, last_error,
    call_id, answered_at, ended_at
from outbound_calls;
insert into outbound_attempts_rebuilt (id, outbound_id, at, provider_sid, error)
select id, outbound_id, at, provider_sid, error from outbound_attempts;
drop table outbound_attempts;
drop table outbound_calls;
-- Renaming rewrites the attempts' reference to the new name.
alter table outbound_calls_rebuilt rename to outbound_calls;
alter table outbound_attempts_rebuilt rename to outbound_attempts;
create index outbound_attempts_by_call on outbound_attempts (outbound_id, id);
create index outbound_calls_due on outbound_calls (purpose, status, next_attempt_at);
create index outbound_calls_by_escalation on outbound_calls (escalation_id, step_ord);
create index outbound_calls_by_subscription on outbound_calls (subscription_id);
