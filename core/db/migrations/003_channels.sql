-- Channels: who a Web Chat visitor or an Inbox sender is, what a run of events did, and what was refused.

-- One identity per (channel, social ID), each belonging to one contact. A contact keeps at most one
-- identity per channel; core.channels enforces that rule, since a person can change accounts.
CREATE TABLE channel_identities (
    channel          VARCHAR NOT NULL,
    social_id        VARCHAR NOT NULL,
    contact_id       VARCHAR NOT NULL,
    first_seen       TIMESTAMP NOT NULL,
    last_seen        TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, social_id)
);
CREATE INDEX channel_identities_contact ON channel_identities (contact_id);

-- Events from blocked contacts, counted per contact: they leave no other trace but an activity entry.
CREATE TABLE channel_refusals (
    contact_id       VARCHAR PRIMARY KEY,
    refused_count    BIGINT NOT NULL,
    last_refused_at  TIMESTAMP NOT NULL
);

-- Every ingest run (a CLI file, an HTTP request, an upload), with what it did.
CREATE TABLE ingest_runs (
    run_id                   BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    started_at               TIMESTAMP NOT NULL,
    finished_at              TIMESTAMP NOT NULL,
    actor                    VARCHAR NOT NULL,   -- who sent the events
    origin                   VARCHAR NOT NULL,   -- 'cli', 'http' or 'upload', with the file name if any
    events                   INTEGER NOT NULL,
    created                  INTEGER NOT NULL,
    updated                  INTEGER NOT NULL,
    conversations_opened     INTEGER NOT NULL,
    conversations_continued  INTEGER NOT NULL,
    refused_blocked          INTEGER NOT NULL,
    malformed                INTEGER NOT NULL,
    malformed_lines          JSON NOT NULL       -- [{"line": n, "reason": ".."}], the first 1,000
);
