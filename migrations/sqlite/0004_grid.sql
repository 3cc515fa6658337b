-- Grid data callers ask about: planned outages, incidents (grouped outage reports with the
-- restoration time dispatchers set), connection applications, and switches such as storm mode.

create table planned_outages (
    id            text primary key,
    settlement_id bigint not null references settlements (id),
    starts_at     bigint not null,
    ends_at       bigint not null,
    streets       text,
    reason        text,
    -- Sample data shipped for a first look; real data never has it.
    demo          bigint not null default 0,
    created_at    bigint not null,
    check (ends_at > starts_at)
);
create index planned_outages_by_settlement on planned_outages (settlement_id, starts_at);

create table incidents (
    id            text primary key,
    settlement_id bigint not null references settlements (id),
    status        text not null check (status in ('open', 'in_progress', 'resolved')),
    -- Estimated restoration time, as the dispatcher set it: what callers hear.
    etr           bigint,
    reports       bigint not null,
    opened_at     bigint not null,
    last_report_at bigint not null,
    updated_at    bigint not null,
    resolved_at   bigint
);
create index incidents_open_by_settlement on incidents (settlement_id, status, last_report_at);

create table connection_applications (
    number     text primary key,
    applicant  text not null,
    status     text not null,
    updated_at bigint not null,
    demo       bigint not null default 0
);

create table switches (
    name       text primary key,
    value      text not null,
    updated_by text not null,
    updated_at bigint not null
);
