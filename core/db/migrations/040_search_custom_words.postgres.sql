-- PostgreSQL's spelling of 040_search_custom_words.sql (read that file for what the table holds). What differs:
-- a contact's custom values are read as the keys of its row as JSON (no UNPIVOT), words are lower-cased by
-- unicode_lower (migration 016), two b-tree indexes serve a term's lookup and a contact's refresh, and one on
-- custom_values (row_key) fetches the candidates a query of several words checks (core.views.search
-- _verified_custom; without it each check read all 10,000,000 rows: about 1 s). DuckDB needs none: custom_values is
-- stored by row_key there, and its zone maps find the row groups.
CREATE TABLE search_custom_words (
    term     VARCHAR NOT NULL,
    row_key  BIGINT NOT NULL
);

INSERT INTO search_custom_words
SELECT DISTINCT unicode_lower(w) AS term, row_key FROM (
    SELECT cv.row_key, unnest(regexp_split_to_array(u.value, '[^[:alnum:]_]+', 'i')) AS w
    FROM custom_values cv
    CROSS JOIN LATERAL jsonb_each_text(to_jsonb(cv) - 'contact_id' - 'row_key') u
    JOIN custom_fields f ON f.key = u.key
    WHERE f.type IN ('text', 'number', 'dropdown') AND u.value IS NOT NULL
) words
WHERE w <> ''
ORDER BY term, row_key;

CREATE INDEX search_custom_words_term ON search_custom_words (term, row_key);
CREATE INDEX search_custom_words_row ON search_custom_words (row_key);
CREATE INDEX IF NOT EXISTS custom_values_row_key ON custom_values (row_key);
