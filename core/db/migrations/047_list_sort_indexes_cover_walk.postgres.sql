-- The list's sort indexes carry what a search's walk tests (issue 16 point 5). A page of a search with many matches
-- is read along migration 035's index on its sort column, testing one contact at a time whether the search index
-- holds it (core.views.search Search.walk): each test read the contact's row_key and blocked from the table, a
-- random read per contact (at 10,000,000 contacts 'smith''s first page tests 8,666). With both included in the
-- index the walk is an index-only scan (the page's statement 325-805 -> 108-150 ms, loaded). Each replaces its
-- 035 index (same order, same use for a list page), so an import keeps as many indexes up to date as before;
-- the 10,000,000 cluster built the first in 24 s.
CREATE INDEX contacts_walk_last_updated ON contacts (last_updated DESC NULLS LAST, contact_id) INCLUDE (row_key, blocked);
DROP INDEX IF EXISTS contacts_list_last_updated;
CREATE INDEX contacts_walk_created_on ON contacts (created_on DESC NULLS LAST, contact_id) INCLUDE (row_key, blocked);
DROP INDEX IF EXISTS contacts_list_created_on;
CREATE INDEX contacts_walk_last_name ON contacts (last_name, contact_id) INCLUDE (row_key, blocked);
DROP INDEX IF EXISTS contacts_list_last_name;
CREATE INDEX contacts_walk_first_name ON contacts (first_name, contact_id) INCLUDE (row_key, blocked);
DROP INDEX IF EXISTS contacts_list_first_name;
