-- Duplicates: the pairs the last detection run proposed, the runs themselves, and pairs people said differ.

-- contact_a < contact_b. Exact pairs share a normalised email or phone (score 1); likely pairs were scored
-- on names and the other fields. Pairs at or above the run's floor are kept, so the threshold a user picks
-- later needs no new run. Pairs of contacts since merged or deleted are skipped when read.
CREATE TABLE duplicate_pairs (
    contact_a  VARCHAR NOT NULL,
    contact_b  VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL CHECK (kind IN ('exact', 'likely')),
    score      DOUBLE NOT NULL,
    evidence   VARCHAR NOT NULL
);

CREATE SEQUENCE duplicate_run_seq;
CREATE TABLE duplicate_runs (
    run_id       INTEGER PRIMARY KEY DEFAULT nextval('duplicate_run_seq'),
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    actor        VARCHAR NOT NULL,
    contacts     BIGINT NOT NULL,
    exact_pairs  BIGINT NOT NULL,
    likely_pairs BIGINT NOT NULL,
    exact_only   BOOLEAN NOT NULL
);

-- "Not a duplicate": people checked these two and they are different; never proposed again.
CREATE TABLE not_duplicates (
    contact_a  VARCHAR NOT NULL,
    contact_b  VARCHAR NOT NULL,
    marked_by  VARCHAR NOT NULL,
    marked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_a, contact_b)
);
