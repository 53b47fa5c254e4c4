-- Duplicates: what each blocking rule contributed to a detection run (issue 15): the pairs it proposed, the
-- pairs its pair budget or block cap left out, and the largest block (contacts sharing one key) it paired.
CREATE TABLE IF NOT EXISTS duplicate_run_rules (
    run_id        INTEGER NOT NULL,
    rule          VARCHAR NOT NULL,
    pairs         BIGINT NOT NULL,
    left_out      BIGINT NOT NULL,
    largest_block INTEGER NOT NULL,
    PRIMARY KEY (run_id, rule)
);
