-- The list page's sort indexes (issue 16 point 5; see 035_list_sort_indexes.sql). Each matches the list's order
-- exactly: the sort value in the page's direction, NULLs last, then contact_id (core/views/queries.py), so a page
-- is the first rows of an index scan (LIMIT/OFFSET) with no sort. The default view (last updated, newest first)
-- and the sorts the list offers first; any other sort column still sorts its matching rows.
CREATE INDEX IF NOT EXISTS contacts_list_last_updated ON contacts (last_updated DESC NULLS LAST, contact_id);
CREATE INDEX IF NOT EXISTS contacts_list_created_on ON contacts (created_on DESC NULLS LAST, contact_id);
CREATE INDEX IF NOT EXISTS contacts_list_last_name ON contacts (last_name, contact_id);
CREATE INDEX IF NOT EXISTS contacts_list_first_name ON contacts (first_name, contact_id);

-- Search on PostgreSQL: a phone's digits (and any piece of two letters or fewer) test every term, which DuckDB
-- scans in milliseconds; PostgreSQL took 1 s for the 4.3 million phone terms at 10,000,000 contacts, and planned the
-- postings as a hash join over all 52 million of them (18 s). A trigram index answers the LIKE the PostgreSQL
-- dialect spells those tests with (core/views/search_index.py, Dialect.terms_by_like).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS search_terms_trigrams ON search_terms USING gin (term gin_trgm_ops);
