-- The data lifecycle (SPEC §2, §6): retention of call records and of closed tickets' personal
-- data, and erasure of one phone number on request.

-- Calls ended per hour (its start, Unix ms), added to as call records are pruned: today's figures
-- (calls ended, IVR containment) read these beside the calls still kept, so pruning moves no figure.
create table call_tallies (
    hour      bigint primary key,
    ended     bigint not null,
    contained bigint not null
);

-- When retention erased a closed ticket's personal data (caller number, address, recording link,
-- notes); null while the ticket still holds it. The index holds only those, oldest change first,
-- so each round finds the next batch without reading the tickets already done.
alter table tickets add column personal_data_erased_at bigint;
create index tickets_holding_personal_data on tickets (updated_at) where personal_data_erased_at is null;

-- Actions on personal data as a whole (an erasure): who, when, the number masked, and how many
-- rows of which kind changed. Never the number in clear; append-only like the tickets' trail.
create table audit_log (
    id      integer primary key,
    at      bigint not null,
    actor   text not null,
    action  text not null,
    subject text not null,
    detail  text not null
);
create trigger audit_log_no_update before update on audit_log
begin select raise(abort, 'audit_log is append-only'); end;
create trigger audit_log_no_delete before delete on audit_log
begin select raise(abort, 'audit_log is append-only'); end;

-- The tickets' trail stays append-only, with one exception an erasure needs: a line's detail may
-- be rewritten when the new text masks a phone number in it (the mask, +7910***4567, has `***`);
-- who, when, what kind and the statuses never change, and no line is ever deleted.
drop trigger ticket_events_no_update;
create trigger ticket_events_no_update before update on ticket_events
when new.id is not old.id or new.ticket_id is not old.ticket_id or new.at is not old.at
    or new.actor is not old.actor or new.kind is not old.kind or new.from_status is not old.from_status
    or new.to_status is not old.to_status or coalesce(new.detail, '') not like '%***%'
begin select raise(abort, 'ticket_events is append-only'); end;
