-- Foundation: counters, accounts, settlements, tickets and their audit trail.
-- Times are Unix milliseconds (bigint); ids are UUID text, except settlements (integer).

create table counters (
    name  text primary key,
    value bigint not null
);
-- Ticket numbers start at six digits: short enough to read aloud and type on a keypad.
insert into counters (name, value) values ('ticket_number', 100000);

create table users (
    id            text primary key,
    username      text not null unique,
    password_hash text not null,
    role          text not null check (role in ('operator', 'dispatcher', 'supervisor', 'admin')),
    created_at    bigint not null
);

create table sessions (
    token_hash text primary key,
    user_id    text not null references users (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null
);
create index sessions_by_expiry on sessions (expires_at);

create table settlements (
    id          integer primary key,
    name        text not null,
    kind        text not null,
    district    text not null,
    postcode    text not null,
    search_name text not null,
    unique (name, district)
);
create index settlements_by_postcode on settlements (postcode);

create table tickets (
    id                   text primary key,
    number               bigint not null unique,
    category             text not null,
    priority             bigint not null check (priority between 1 and 4),
    status               text not null,
    channel              text not null,
    caller_number        text,
    settlement_id        bigint references settlements (id),
    address              text,
    description          text not null,
    recording_url        text,
    recording_duration_s bigint,
    incident_id          text,
    call_id              text,
    assignee_id          text references users (id),
    search_text          text not null,
    created_at           bigint not null,
    updated_at           bigint not null
);
create index tickets_by_status on tickets (status, number);
create index tickets_by_category on tickets (category, number);
create index tickets_by_settlement on tickets (settlement_id, number);
create index tickets_by_caller on tickets (caller_number, created_at);

create table ticket_events (
    id          integer primary key,
    ticket_id   text not null references tickets (id),
    at          bigint not null,
    actor       text not null,
    kind        text not null,
    from_status text,
    to_status   text,
    detail      text
);
create index ticket_events_by_ticket on ticket_events (ticket_id, id);

-- The audit trail is append-only: no statement may rewrite history.
create trigger ticket_events_no_update before update on ticket_events
begin select raise(abort, 'ticket_events is append-only'); end;
create trigger ticket_events_no_delete before delete on ticket_events
begin select raise(abort, 'ticket_events is append-only'); end;

create table ticket_notes (
    id         text primary key,
    ticket_id  text not null references tickets (id),
    author     text not null,
    body       text not null,
    created_at bigint not null
);
create index ticket_notes_by_ticket on ticket_notes (ticket_id, created_at);
