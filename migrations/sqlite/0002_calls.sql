-- Calls: one row per provider call, the answer to every step (for idempotent replays) and the
-- raw webhook log.

create table calls (
    id               text primary key,
    provider_call_id text not null,
    dialect          text not null,
    caller_number    text,
    called_number    text,
    status           text not null,
    -- The IVR's position: node, tries, variables (JSON).
    state            text not null,
    -- Steps answered so far; the next step the provider may post is this number.
    seq              bigint not null,
    created_at       bigint not null,
    updated_at       bigint not null,
    queued_at        bigint,
    ended_at         bigint,
    unique (dialect, provider_call_id)
);
create index calls_by_caller on calls (caller_number, created_at);

create table call_steps (
    call_id      text not null references calls (id),
    seq          bigint not null,
    content_type text not null,
    response     text not null,
    created_at   bigint not null,
    primary key (call_id, seq)
);

create table call_events (
    id        integer primary key,
    call_id   text not null references calls (id),
    at        bigint not null,
    kind      text not null,
    -- What makes a redelivery the same event: a replayed webhook adds no row.
    dedup_key text not null,
    payload   text not null,
    unique (call_id, dedup_key)
);

