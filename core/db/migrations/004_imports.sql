-- Imports: every commit of a CSV or XLSX file, with who ran it and what it did.
CREATE TABLE import_history (
    import_id    BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    imported_at  TIMESTAMP NOT NULL,
    actor        VARCHAR NOT NULL,
    file_name    VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL CHECK (mode IN ('create', 'update', 'upsert')),
    total_rows   INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    rejected     INTEGER NOT NULL
);
