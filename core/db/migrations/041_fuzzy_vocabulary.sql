-- The typo search's vocabularies kept on write (core/views/vocabulary.py), so a search after a write reads the
-- words added since it last looked instead of scanning contacts (at 10,000,000 contacts on PostgreSQL the email
-- local parts took over 8 minutes to read that way).
--
-- vocabulary_holders: a row per contact and distinct word it holds ('names': its lower-cased first and last name;
-- 'locals': the lower-cased local part of its email and additional emails), by the contact's row_key. Refreshed
-- with the search index for every contact whose names or emails a write changes; a deleted contact's rows stay
-- (its row_key is never reused) until the search index is rebuilt, like its postings.
--
-- vocabulary_words: each word once per kind, with the batch (vocabulary_batch) of the write that first held it.
-- Rows are only added (a word whose holders all went stays, as search_terms do), so writers never update a row
-- another writer may hold; a reader keeps the words in memory and reads the batches it has not seen.
--
-- The setting 'vocabulary_generation': random, changed when the tables are rebuilt (a reader then reads every word
-- again); a setting, so that migrate-store carries it with the tables.
CREATE SEQUENCE vocabulary_batch START 1;

INSERT INTO settings VALUES ('vocabulary_generation', CAST(uuid() AS VARCHAR));

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
    SELECT 'names' AS kind, lower(first_name) AS word, row_key FROM contacts
    UNION ALL SELECT 'names', lower(last_name), row_key FROM contacts
    UNION ALL SELECT 'locals', lower(split_part(email, '@', 1)), row_key FROM contacts
    UNION ALL SELECT 'locals', lower(split_part(ch.value, '@', 1)), c.row_key
    FROM contact_channels ch JOIN contacts c ON c.contact_id = ch.contact_id WHERE ch.kind = 'email'
) held
WHERE word IS NOT NULL AND word <> ''
ORDER BY kind, word, row_key;

INSERT INTO vocabulary_words
SELECT DISTINCT kind, word, 0 FROM vocabulary_holders ORDER BY kind, word;
