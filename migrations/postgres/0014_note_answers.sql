-- The internet reception shows a web appeal's author the operator's answer (SPEC §5): a note
-- marked as the answer. 1 marks it; the newest marked note is what the author reads.
alter table ticket_notes add column answer bigint not null default 0;
