-- The operator queue: live calls, callbacks and tickets waiting for a person; the operators who
-- take them; and the event log that live updates and metrics are read from.

create table operators (
    user_id      text primary key references users (id),
    status       text not null check (status in ('available', 'paused', 'offline', 'wrap_up')),
    pause_reason text,
    -- Where a live call is put through: +7... or sip:...
    contact      text,
    -- Last sign of life; what the operator holds is leased until seen_at + the lease time.
    seen_at      bigint not null,
    updated_at   bigint not null
);

create table queue_items (
    id               text primary key,
    kind             text not null check (kind in ('live_call', 'callback', 'ticket')),
    ticket_id        text references tickets (id),
    call_id          text references calls (id),
    caller_number    text,
    category         text not null,
    priority         bigint not null,
    -- 0 for hazards, served strictly first; 1 for everyone else.
    tier             bigint not null,
    -- enqueued_at minus the category's offset: the serving order within a tier.
    sort_key         bigint not null,
    enqueued_at      bigint not null,
    state            text not null check (state in ('waiting', 'assigned', 'done', 'abandoned', 'cancelled')),
    operator_id      text references users (id),
    assigned_at      bigint,
    lease_expires_at bigint,
    finished_at      bigint,
    disposition      text,
    note             text,
    -- The position last told to a waiting caller: a new one is said only when it is better.
    announced_position bigint
);
create index queue_items_waiting on queue_items (state, tier, sort_key, id);
create index queue_items_by_call on queue_items (call_id);
create unique index queue_items_one_per_operator on queue_items (operator_id) where state = 'assigned';
create unique index queue_items_one_callback on queue_items (caller_number, category)
    where kind = 'callback' and state in ('waiting', 'assigned');

create table events (
    id         integer primary key,
    at         bigint not null,
    topic      text not null,
    kind       text not null,
    subject_id text not null,
    payload    text not null
);
