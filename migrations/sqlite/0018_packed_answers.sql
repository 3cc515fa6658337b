-- A call step writes less (at most 3 KB of database per call): its answer packed, what the
-- webhook said kept beside it instead of in a log row of its own, escalation policies once.

-- Each dictionary stored answers are packed against (zstd, src/store/replays.rs), once, under
-- the first eight bytes of its SHA-256 (as a signed integer).
create table answer_dictionaries (
    id         bigint primary key,
    body       blob not null,
    created_at bigint not null
);

-- A step: when it was answered, what the webhook said (`Inbound::logged`; the call_events rows
-- of kind 'step' written before stay there) and the answer, packed, without its content type
-- (the call's dialect says it). Keyed by its primary key alone (without rowid), so the call's
-- id is stored once, not again in a separate index. Answers kept from before stay plain
-- (dictionary null).
create table call_steps_packed (
    call_id    text not null references calls (id),
    seq        bigint not null,
    at         bigint not null,
    input      text,
    dictionary bigint references answer_dictionaries (id),
    answer     blob not null,
    primary key (call_id, seq)
) without rowid;
insert into call_steps_packed (call_id, seq, at, dictionary, answer)
    select call_id, seq, created_at, null, cast(response as blob) from call_steps;
drop table call_steps;
alter table call_steps_packed rename to call_steps;

-- A hazard's escalation copied its policy (~2 KB of JSON) into its row; the same policy is now
-- kept once, and escalations.policy_snapshot holds `sha256:<first 16 hex digits>` naming it
-- (rows from before keep the JSON itself).
create table policy_snapshots (
    digest text primary key,
    body   text not null
);
