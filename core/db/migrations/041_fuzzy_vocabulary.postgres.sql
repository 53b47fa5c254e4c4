-- PostgreSQL's spelling of 041_fuzzy_vocabulary.sql (read that file for what the tables hold). What differs:
-- words are lower-cased by unicode_lower (migration 016, as the search index does there), the generation is
-- gen_random_uuid(), and b-tree indexes serve a word's holders, a contact's refresh and a reader's new batches.
CREATE SEQUENCE vocabulary_batch START 1;

INSERT INTO settings VALUES ('vocabulary_generation', CAST(gen_random_uuid() AS VARCHAR));

CREATE TABLE vocabulary_holders (
    kind     VARCHAR NOT NULL,
    word     VARCHAR NOT NULL,
    row_key  BIGINT NOT NULL
);

CREATE TABLE vocabulary_words (
    kind   VARCHAR NOT NULL,
    word   VARCHAR NOT NULL,
    batch  BIGINT NOT NULL
);

INSERT INTO vocabulary_holders
SELECT DISTINCT kind, word, row_key FROM (
    SELECT 'names' AS kind, unicode_lower(first_name) AS word, row_key FROM contacts
    UNION ALL SELECT 'names', unicode_lower(last_name), row_key FROM contacts
    UNION ALL SELECT 'locals', unicode_lower(split_part(email, '@', 1)), row_key FROM contacts
    UNION ALL SELECT 'locals', unicode_lower(split_part(ch.value, '@', 1)), c.row_key
    FROM contact_channels ch JOIN contacts c ON c.contact_id = ch.contact_id WHERE ch.kind = 'email'
) held
WHERE word IS NOT NULL AND word <> '';

INSERT INTO vocabulary_words
SELECT DISTINCT kind, word, 0 FROM vocabulary_holders;

CREATE INDEX vocabulary_holders_word ON vocabulary_holders (kind, word, row_key);
CREATE INDEX vocabulary_holders_row ON vocabulary_holders (row_key);
CREATE INDEX vocabulary_words_batch ON vocabulary_words (batch);
CREATE INDEX vocabulary_words_word ON vocabulary_words (kind, word);
