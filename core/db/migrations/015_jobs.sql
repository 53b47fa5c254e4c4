-- Background jobs: long work (duplicate detection, imports, exports, bulk actions over large views) that runs
-- in the app process on its own cursor, one at a time per kind, while pages poll this row for progress.
-- A job still 'queued' or 'running' when the process starts again was cut short: it is marked 'interrupted'.
CREATE SEQUENCE job_seq;
CREATE TABLE jobs (
    job_id      INTEGER PRIMARY KEY DEFAULT nextval('job_seq'),
    kind        VARCHAR NOT NULL,
    state       VARCHAR NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'interrupted')),
    progress    DOUBLE NOT NULL DEFAULT 0,
    message     VARCHAR NOT NULL DEFAULT '',
    result      JSON,
    actor       VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_kind ON jobs (kind);
