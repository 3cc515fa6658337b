-- Web submissions never bury callers (SPEC §6, §7).
--
-- 1. The queue's tiers: hazards first, and within hazards and within the rest a caller (on the
--    line or to ring back) before work without one (web appeals, theft recordings, tickets made
--    by hand): 0 hazard callers, 1 hazard tickets, 2 other callers, 3 other tickets. Until now
--    every non-hazard item shared tier 1; items already in the queue move to their new tier.
update queue_items set tier = case
    when category = 'hazard' and kind = 'ticket' then 1
    when category = 'hazard' then 0
    when kind = 'ticket' then 3
    else 2
end;

-- 2. What the internet reception accepted in the last 24 hours, kept in the database so the
--    limits hold across every instance sharing it: at most 10 an hour from one client address,
--    3 an hour for one phone number, and the same text from the same phone within 24 hours
--    answers with the number it got the first time. Rows older than 24 hours are swept as new
--    submissions arrive; phone numbers here are personal data like the tickets' own.
create table web_submissions (
    id            text primary key,
    at            bigint not null,
    client        text not null,
    phone         text,
    -- SHA-256 (hex) of the text with case and runs of white space folded: a repeat is recognised
    -- without keeping the text twice.
    text_digest   text not null,
    ticket_number bigint not null
);
create index web_submissions_by_client on web_submissions (client, at);
create index web_submissions_by_phone on web_submissions (phone, at);
create index web_submissions_at on web_submissions (at);
