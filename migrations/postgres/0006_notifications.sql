-- What escalations need to reach people: field crews, e-mail addresses of accounts, the outbox
-- every message goes through (so a restart or an SMTP outage delays mail but never drops it),
-- and the key that signs acknowledgement links (one per database, so every instance agrees).

create table crews (
    id         text primary key,
    name       text not null,
    phone      text,
    email      text,
    status     text not null check (status in ('available', 'en_route', 'on_site', 'off_duty')),
    created_at bigint not null,
    updated_at bigint not null
);

alter table users add column email text;

-- The crew a dispatcher sent; callers from an incident's settlement hear about it.
alter table escalations add column crew_id text references crews (id);
alter table incidents add column crew_id text references crews (id);
-- Reminders while acknowledged but not resolved: the interval comes from the policy snapshot.
alter table escalations add column remind_after_s bigint;
alter table escalations add column remind_at bigint;

-- Whom a step should tell, as the policy said (JSON: people, roles, duty shifts); `recipients`
-- holds the people they resolve to, forecast at the start and fixed when the step fires.
alter table escalation_steps add column targets text;

create table outbox (
    id              text primary key,
    -- One message per purpose and recipient: firing a step twice could not mail twice.
    dedup_key       text not null unique,
    escalation_id   text references escalations (id),
    -- The step that sent it; null for reminders and crew jobs.
    step_ord        bigint,
    purpose         text not null check (purpose in ('step', 'reminder', 'assignment')),
    channel         text not null,
    recipient_name  text not null,
    recipient_email text not null,
    subject         text not null,
    body            text not null,
    created_at      bigint not null,
    attempts        bigint not null default 0,
    next_attempt_at bigint not null,
    -- A worker holds a message while it sends it; an expired claim lets another try.
    claimed_until   bigint,
    sent_at         bigint,
    last_error      text
);
create index outbox_pending on outbox (sent_at, next_attempt_at);
create index outbox_by_escalation on outbox (escalation_id, step_ord);

create table secrets (
    name  text primary key,
    value text not null
);
