-- Failed logins, kept for the throttling window of SPEC §6 (10 for one username or from one
-- address within 10 minutes): in the database so every instance on it counts the same attempts.
-- A login in progress holds a row too until its password is checked (removed if it was right),
-- so a flood of parallel attempts cannot get more than the allowed checks past the count.

create table login_failures (
    id       text primary key,
    -- As typed at the login box (at most 64 characters are kept).
    username text not null,
    -- The client address as `client_addr` derives it (an IPv6 client by its /64).
    address  text not null,
    at       bigint not null
);
create index login_failures_by_username on login_failures (username, at);
create index login_failures_by_address on login_failures (address, at);
create index login_failures_by_time on login_failures (at);
