-- PostgreSQL's spelling of 016_search_index.sql (the search index: contacts.row_key, search_terms,
-- search_postings; read that file for what they hold). What differs: the words of a value are split by
-- search_words() below (DuckDB: regexp_split_to_array(lower(v), '[^\pL\pN]+'); PostgreSQL has no \pL, and
-- lower() and [[:alnum:]] follow the database's LC_CTYPE, ASCII only under C, so both use the ICU root
-- collation: Unicode letters and decimal digits whatever the database's locale), a list literal is ARRAY[...],
-- and the lookups the search makes get b-tree indexes (DuckDB reads sorted row groups instead).
CREATE SEQUENCE contact_row_key_seq;
ALTER TABLE contacts ADD COLUMN row_key BIGINT DEFAULT nextval('contact_row_key_seq');
CREATE INDEX contacts_row_key ON contacts (row_key);

CREATE SEQUENCE search_term_seq;

CREATE TABLE search_terms (
    term_id  BIGINT NOT NULL,
    term     VARCHAR NOT NULL,
    phone    BOOLEAN NOT NULL
);
CREATE INDEX search_terms_term ON search_terms (term, phone);

CREATE TABLE search_postings (
    term_id  BIGINT NOT NULL,
    row_key  BIGINT NOT NULL
);
CREATE INDEX search_postings_term ON search_postings (term_id, row_key);
CREATE INDEX search_postings_row ON search_postings (row_key);

-- The lower-cased runs of letters and digits of a text (core.db.dialect split_words; empty strings where
-- separators lead or trail, as DuckDB's split gives them). Characters DuckDB's \pN counts as digits but ICU's
-- [[:alnum:]] does not (other numbers: '½', '²') separate words here.
CREATE FUNCTION search_words(text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT regexp_split_to_array(lower($1 COLLATE "und-x-icu"), ''[^[:alnum:]]+'')';

-- lower() of any letter, whatever the database's LC_CTYPE (core.db.dialect lower).
CREATE FUNCTION unicode_lower(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT lower($1 COLLATE "und-x-icu")';

-- suffix(text, part): DuckDB's, whether text ends with part (the search's test of a word before a separator).
CREATE FUNCTION suffix(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT right($1, length($2)) = $2';

-- Carry an existing database over: every contact's terms.
CREATE TEMP TABLE search_build AS
SELECT DISTINCT row_key, phone, unnest(
    CASE WHEN phone THEN ARRAY[regexp_replace(v, '[^0-9]', '', 'g')] ELSE search_words(v) END
) AS term
FROM (
    SELECT row_key, first_name AS v, false AS phone FROM contacts WHERE first_name IS NOT NULL
    UNION ALL SELECT row_key, last_name, false FROM contacts WHERE last_name IS NOT NULL
    UNION ALL SELECT row_key, email, false FROM contacts WHERE email IS NOT NULL
    UNION ALL SELECT row_key, phone, true FROM contacts WHERE phone IS NOT NULL
    UNION ALL SELECT c.row_key, ch.value, ch.kind = 'phone' FROM contact_channels ch JOIN contacts c USING (contact_id)
) AS searched;

INSERT INTO search_terms
SELECT nextval('search_term_seq'), term, phone FROM (
    SELECT DISTINCT term, phone FROM search_build WHERE term <> '' ORDER BY phone, term
) AS distinct_terms;

INSERT INTO search_postings
SELECT t.term_id, b.row_key FROM search_build b JOIN search_terms t USING (term, phone) ORDER BY t.term_id, b.row_key;

DROP TABLE search_build;
