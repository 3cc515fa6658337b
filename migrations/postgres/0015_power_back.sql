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
-- e-mail address (a caller).
alter table outbound_calls drop constraint outbound_calls_purpose_check;
alter table outbound_calls add constraint outbound_calls_purpose_check check (purpose in ('escalation', 'power_back'));
alter table outbound_calls alter column recipient_email drop not null;
alter table outbound_calls add column subscription_id text references power_back_subscriptions (id);
drop index outbound_calls_due;
create index outbound_calls_due on outbound_calls (purpose, status, next_attempt_at);
create index outbound_calls_by_subscription on outbound_calls (subscription_id);
