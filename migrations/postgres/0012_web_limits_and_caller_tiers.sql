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
