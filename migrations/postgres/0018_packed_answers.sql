-- A call step writes less (at most 3 KB of database per call): its answer packed, what the
-- webhook said kept beside it instead of in a log row of its own, escalation policies once.

-- Each dictionary stored answers are packed against (zstd, src/store/replays.rs), once, under
-- the first eight bytes of its SHA-256 (as a signed integer).
create table answer_dictionaries (
    id         bigint primary key,
    body       bytea not null,
    created_at bigint not null
);

-- A step: when it was answered, what the webhook said (`Inbound::logged`; the call_events rows
-- of kind 'step' written before stay there) and the answer, packed, without its content type
-- (the call's dialect says it). Answers kept from before stay plain (dictionary null).
alter table call_steps rename column created_at to at;
alter table call_steps add column input text;
alter table call_steps add column dictionary bigint references answer_dictionaries (id);
alter table call_steps add column answer bytea;
update call_steps set answer = convert_to(response, 'UTF8');
alter table call_steps alter column answer set not null;
alter table call_steps drop column response;
alter table call_steps drop column content_type;

-- A hazard's escalation copied its policy (~2 KB of JSON) into its row; the same policy is now
-- kept once, and escalations.policy_snapshot holds `sha256:<first 16 hex digits>` naming it
-- (rows from before keep the JSON itself).
create table policy_snapshots (
    digest text primary key,
    body   text not null
);
