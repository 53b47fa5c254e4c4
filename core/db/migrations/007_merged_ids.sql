-- Contact IDs merged away, and the contact each one now lives in (chains are kept one hop long).
-- A browser's Web Chat cookie keeps the ID it was given: the visitor's next chat must reach the
-- primary instead of bringing the merged contact back, and an old link to it can say where it went.
CREATE TABLE merged_ids (
    merged_id  VARCHAR PRIMARY KEY,
    contact_id VARCHAR NOT NULL,
    merged_at  TIMESTAMP NOT NULL
);
