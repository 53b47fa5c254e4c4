-- Duplicates learn from the data: a run records each blocking rule's pairs and the weights it learned, and
-- keeps the conflicts inside groups so that groups never chain different people together.

-- JSON: {rule label: candidate pairs it found}, and [{field, level, m, u, weight}] as learned.
ALTER TABLE duplicate_runs ADD COLUMN rule_pairs VARCHAR;
ALTER TABLE duplicate_runs ADD COLUMN weights VARCHAR;
ALTER TABLE duplicate_runs ADD COLUMN prior DOUBLE;

-- contact_a < contact_b: two contacts inside one group of likely pairs whose own evidence says they are
-- different people (weight below 0). A group is never built across such a pair.
CREATE TABLE duplicate_conflicts (
    contact_a  VARCHAR NOT NULL,
    contact_b  VARCHAR NOT NULL,
    score      DOUBLE NOT NULL,
    evidence   VARCHAR
);
