-- No query looks calls up by caller (returning callers are found by their tickets), yet every new
-- call wrote a random place of this index.
drop index calls_by_caller;
-- The day's call figures of /metrics read the calls that ended since midnight; without an index
-- each scrape read every call ever taken. Calls still going are left out of it.
create index calls_ended on calls (ended_at) where ended_at is not null;
