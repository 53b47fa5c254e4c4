-- Search index, part three (issue 17): the whole words of custom text, number and dropdown values, so a quick
-- search reads which contacts hold the query as a whole custom word instead of scanning custom_values with ILIKE
-- and a regular expression (11-13 ms of CPU on every search at 1,000,000 contacts on DuckDB; 0.5-2.8 s at
-- 10,000,000 on PostgreSQL). A word is a run of the characters the whole-word test counts as part of a word
-- (core.views.search.whole_word_pattern: [[:alnum:]_], matched case-insensitively), lower-cased after the split.
-- A row per distinct (term, row_key); built sorted by term, so a lookup of one term reads few row groups.
-- Kept by core/views/search_index.py (refresh_search_index, refresh_custom_terms) on every write that changes
-- custom values; a deleted contact's rows are left behind like its postings (its row_key matches no contact).
CREATE TABLE search_custom_words (
    term     VARCHAR NOT NULL,
    row_key  BIGINT NOT NULL
);

-- Carry an existing database over: the values of every text, number and dropdown field (a column each of
-- custom_values; the placeholder column "0" lets UNPIVOT run when there is no custom field at all).
INSERT INTO search_custom_words
SELECT DISTINCT lower(w) AS term, row_key FROM (
    SELECT u.row_key, unnest(regexp_split_to_array(u.v, '[^[:alnum:]_]+', 'i')) AS w
    FROM (
        UNPIVOT (SELECT *, NULL::VARCHAR AS "0" FROM custom_values)
        ON COLUMNS(* EXCLUDE (contact_id, row_key)) INTO NAME field_key VALUE v
    ) u
    JOIN custom_fields f ON f.key = u.field_key
    WHERE f.type IN ('text', 'number', 'dropdown')
) words
WHERE w <> ''
ORDER BY term, row_key;
