-- Duplicates: pairs inside a would-be group whose own comparison says they are different people (issue 15).
-- A detection run scores every pair of members of each small group its likely and exact pairs chain
-- together, and keeps here the ones that score strongly against (contact_a < contact_b): a group holding
-- such a pair is split rather than chain two people through a third. Replaced by each run.
-- IF NOT EXISTS: databases that ran a reverted migration 008 (98fa80c) already hold this table, same columns.
CREATE TABLE IF NOT EXISTS duplicate_conflicts (
    contact_a  VARCHAR NOT NULL,
    contact_b  VARCHAR NOT NULL,
    score      DOUBLE NOT NULL,
    evidence   VARCHAR NOT NULL
);
