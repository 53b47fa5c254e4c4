-- The typo search's vocabulary indexes keyed by the word first (issue 16 point 5). Every lookup names both the kind
-- and the word (a word's holders, a batch's new words), so either order serves it; but a b-tree build sorts by the
-- first column's abbreviated key, and the kind (two values) leaves every comparison to the full word: an import that
-- builds them after its rows (core.db.bulk) built the 3,000,000 holders of 1,000,000 contacts in 3.5 s keyed by kind
-- first, 2.6 s keyed by the word first.
CREATE INDEX vocabulary_holders_word_kind ON vocabulary_holders (word, kind, row_key);
DROP INDEX vocabulary_holders_word;
CREATE INDEX vocabulary_words_word_kind ON vocabulary_words (word, kind);
DROP INDEX vocabulary_words_word;
