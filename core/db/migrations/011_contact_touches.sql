-- Every write to a contact or to what belongs to it (a note, a conversation, an identity, a refused event)
-- adds one here; a delete adds one too before it removes the row. DuckDB 2.0.1 detects two transactions
-- writing one column of one row, but lets a transaction delete (or update) a row another one changed or
-- deleted meanwhile; writing this column on both sides turns such a race into a conflict for one of
-- them instead of rows left pointing at a deleted contact. Unlike `version`, it does not make an open
-- edit form stale: a chat message or a note is not an edit of the contact's values.
ALTER TABLE contacts ADD COLUMN touches BIGINT NOT NULL DEFAULT 0;
