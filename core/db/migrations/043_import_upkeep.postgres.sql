-- What a large import keeps up to date on PostgreSQL (issue 16 point 5: 1,000,000 rows in under 60 s).
-- search_grams (021) is no longer kept there: migration 035's pg_trgm index on search_terms(term) answers the
-- search's tests of a piece of three letters or more as LIKE (core/views/search_index.py piece_terms_sql,
-- Dialect.terms_by_like), and filling the grams took 31 s of server CPU of a 1,000,000-row import (10 million
-- rows and their b-tree for 1 million unique email names). The table stays, empty, so both stores keep one schema.
TRUNCATE search_grams;
