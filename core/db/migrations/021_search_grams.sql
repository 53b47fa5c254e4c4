-- Search index, part two (issue 17): the trigrams of the search terms (migration 016), so a query's terms are
-- found by reading the rows of one of its trigrams instead of testing all 713,000 terms (at 1,000,000 contacts:
-- 10-14 ms a query piece, now under 2). A row per distinct (trigram, term): its term_id and the term itself, so
-- the test of the whole term (contains, starts with...) runs on those rows alone. Terms shorter than three
-- letters and phones have none (a query that short, or for phone digits, reads search_terms). Built sorted by
-- trigram: a lookup reads one row group. Rows are added with their terms (core/views/search_index.py) and never removed, like terms.
CREATE TABLE search_grams (
    gram     VARCHAR NOT NULL,
    phone    BOOLEAN NOT NULL,
    term_id  BIGINT NOT NULL,
    term     VARCHAR NOT NULL
);

INSERT INTO search_grams
SELECT DISTINCT substr(term, r.i, 3) AS gram, phone, term_id, term
FROM search_terms, range(1, length(term) - 1) AS r(i)
WHERE NOT phone
ORDER BY phone, gram, term_id;
