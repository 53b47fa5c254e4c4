-- PostgreSQL's spelling of 021_search_grams.sql (the search terms by trigram; read that file for what the table
-- holds): DuckDB's range(a, b) is generate_series(a, b - 1), and the lookup by trigram gets a b-tree index
-- (DuckDB reads the table's sorted row groups instead).
CREATE TABLE search_grams (
    gram     VARCHAR NOT NULL,
    phone    BOOLEAN NOT NULL,
    term_id  BIGINT NOT NULL,
    term     VARCHAR NOT NULL
);
CREATE INDEX search_grams_gram ON search_grams (gram, phone);

INSERT INTO search_grams
SELECT DISTINCT substr(term, r.i, 3) AS gram, phone, term_id, term
FROM search_terms, generate_series(1, length(term) - 2) AS r(i)
WHERE NOT phone
ORDER BY phone, gram, term_id;
