-- The write stamps (core/stamps.py) of a database several app processes share: each moves (nextval) after a
-- write commits and is read (last_value) by every process's caches. Sequences rather than a row: nextval never
-- waits for nor conflicts with another session, while a row bumped by every write would serialise the writers
-- (a REPEATABLE READ update of a row another session just changed fails). setval(.., 1): last_value then moves
-- on the first nextval (a fresh sequence answers 1 before and after it).
CREATE SEQUENCE write_stamp_workspace;
CREATE SEQUENCE write_stamp_contacts;
SELECT setval('write_stamp_workspace', 1);
SELECT setval('write_stamp_contacts', 1);
