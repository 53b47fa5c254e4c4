-- Search index (issue 17): substring search on names, emails and phones answers from the distinct terms
-- instead of scanning every contact. A term is a lower-cased run of letters and digits of a first name,
-- last name, email, phone (E.164, so its digits) or additional email or phone (contact_channels); a query
-- without separators is inside a value exactly when it is inside one of its terms.
--
-- row_key: an integer key per contact, never reused (a sequence), so postings are (INTEGER, BIGINT) and
-- the join back to contacts reads one integer column instead of the VARCHAR contact_id. A contact deleted
-- leaves its postings behind; they match no contact row and the next rebuild drops them.
CREATE SEQUENCE contact_row_key_seq;
ALTER TABLE contacts ADD COLUMN row_key BIGINT DEFAULT nextval('contact_row_key_seq');

CREATE SEQUENCE search_term_seq;

-- One row per distinct term and kind (two writers adding the same new term at once may add it twice:
-- harmless, the reader takes both). A phone's term is its digits, matched only by a query that looks like
-- a phone; built with the phones last, so a query of words skips their row groups.
CREATE TABLE search_terms (
    term_id  BIGINT NOT NULL,
    term     VARCHAR NOT NULL,
    phone    BOOLEAN NOT NULL          -- the digits of a phone (primary or additional), else a word
);

-- Which contacts (row_key) hold which term; built sorted by term_id.
CREATE TABLE search_postings (
    term_id  BIGINT NOT NULL,
    row_key  BIGINT NOT NULL
);

-- Carry an existing database over: every contact's terms (the same terms as core/views/search_index.py).
CREATE TEMP TABLE search_build AS
SELECT DISTINCT row_key, phone, unnest(
    CASE WHEN phone THEN [regexp_replace(v, '[^0-9]', '', 'g')] ELSE regexp_split_to_array(lower(v), '[^\pL\pN]+') END
) AS term
FROM (
    SELECT row_key, first_name AS v, false AS phone FROM contacts WHERE first_name IS NOT NULL
    UNION ALL SELECT row_key, last_name, false FROM contacts WHERE last_name IS NOT NULL
    UNION ALL SELECT row_key, email, false FROM contacts WHERE email IS NOT NULL
    UNION ALL SELECT row_key, phone, true FROM contacts WHERE phone IS NOT NULL
    UNION ALL SELECT c.row_key, ch.value, ch.kind = 'phone' FROM contact_channels ch JOIN contacts c USING (contact_id)
);

INSERT INTO search_terms
SELECT nextval('search_term_seq'), term, phone FROM (
    SELECT DISTINCT term, phone FROM search_build WHERE term <> '' ORDER BY phone, term
);

INSERT INTO search_postings
SELECT t.term_id, b.row_key FROM search_build b JOIN search_terms t USING (term, phone) ORDER BY t.term_id, b.row_key;

DROP TABLE search_build;
