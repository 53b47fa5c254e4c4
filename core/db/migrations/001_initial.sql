-- Contacts workspace: base schema. Never edit an applied migration; add a new numbered file.

CREATE TABLE owners (
    owner_id   VARCHAR PRIMARY KEY,          -- the user name an agent or admin signs in with
    name       VARCHAR NOT NULL,
    email      VARCHAR,
    role       VARCHAR NOT NULL DEFAULT 'agent' CHECK (role IN ('admin', 'agent')),
    active     BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE lead_stages (
    name       VARCHAR PRIMARY KEY,
    position   INTEGER NOT NULL
);
INSERT INTO lead_stages VALUES ('Lead', 1), ('Contact', 2), ('Qualified', 3), ('Customer', 4), ('Churned', 5);

CREATE TABLE settings (
    key        VARCHAR PRIMARY KEY,
    value      VARCHAR NOT NULL
);
INSERT INTO settings VALUES ('default_country', 'US');

CREATE TABLE contacts (
    contact_id          VARCHAR PRIMARY KEY,
    first_name          VARCHAR,
    last_name           VARCHAR,
    email               VARCHAR,
    phone               VARCHAR,             -- E.164
    phone_raw           VARCHAR,             -- as entered
    lead_stage          VARCHAR NOT NULL DEFAULT 'Contact',
    owner_id            VARCHAR,
    tags                VARCHAR[] NOT NULL DEFAULT [],
    email_subscription  VARCHAR NOT NULL DEFAULT 'not set'
        CHECK (email_subscription IN ('subscribed', 'unsubscribed', 'not set')),
    sms_subscription    VARCHAR NOT NULL DEFAULT 'not set'
        CHECK (sms_subscription IN ('subscribed', 'unsubscribed', 'not set')),
    source              VARCHAR NOT NULL DEFAULT 'manual',
    channel             VARCHAR,
    social_id           VARCHAR,
    name_generated      BOOLEAN NOT NULL DEFAULT FALSE,
    company             VARCHAR,
    job_title           VARCHAR,
    gender              VARCHAR,
    birthday            DATE,
    language            VARCHAR,
    time_zone           VARCHAR,
    country             VARCHAR,
    state               VARCHAR,
    city                VARCHAR,
    address             VARCHAR,
    postal_code         VARCHAR,
    website             VARCHAR,
    browser             VARCHAR,
    os                  VARCHAR,
    device              VARCHAR,
    ip_address          VARCHAR,
    first_visit_url     VARCHAR,
    referrer            VARCHAR,
    utm_source          VARCHAR,
    utm_medium          VARCHAR,
    utm_campaign        VARCHAR,
    created_on          TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    last_updated        TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    last_contacted      TIMESTAMP,
    last_seen           TIMESTAMP,
    blocked             BOOLEAN NOT NULL DEFAULT FALSE,
    blocked_on          TIMESTAMP,
    version             INTEGER NOT NULL DEFAULT 1   -- optimistic concurrency
);

CREATE TABLE custom_fields (
    key         VARCHAR PRIMARY KEY,
    label       VARCHAR NOT NULL,
    type        VARCHAR NOT NULL CHECK (type IN ('text', 'number', 'checkbox', 'datetime', 'dropdown')),
    options     VARCHAR[] NOT NULL DEFAULT [],   -- dropdown choices
    is_identity BOOLEAN NOT NULL DEFAULT FALSE,  -- takes part in import matching and duplicates
    position    INTEGER NOT NULL
);

-- Values are kept as text in a canonical form per type (numbers as decimals, datetimes ISO 8601,
-- checkboxes 'true'/'false'), so one table serves every type.
CREATE TABLE custom_values (
    contact_id  VARCHAR NOT NULL,
    field_key   VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    PRIMARY KEY (contact_id, field_key)
);

CREATE SEQUENCE related_id_seq;

CREATE TABLE conversations (
    conversation_id  BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    contact_id       VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL CHECK (kind IN ('webchat', 'inbox')),
    subject          VARCHAR,
    started_at       TIMESTAMP NOT NULL,
    last_message_at  TIMESTAMP NOT NULL,
    message_count    INTEGER NOT NULL DEFAULT 1,
    status           VARCHAR NOT NULL DEFAULT 'open'
);

CREATE TABLE tickets (
    ticket_id    BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    contact_id   VARCHAR NOT NULL,
    subject      VARCHAR NOT NULL,
    status       VARCHAR NOT NULL DEFAULT 'open',
    priority     VARCHAR NOT NULL DEFAULT 'normal',
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE notes (
    note_id      BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    contact_id   VARCHAR NOT NULL,
    author       VARCHAR NOT NULL,
    body         VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE media (
    media_id     BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    contact_id   VARCHAR NOT NULL,
    file_name    VARCHAR NOT NULL,
    mime_type    VARCHAR NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- Every change: who, when, what, and the changed fields as {"field": {"before": .., "after": ..}}.
CREATE TABLE activity (
    activity_id  BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    contact_id   VARCHAR NOT NULL,
    happened_at  TIMESTAMP NOT NULL,
    actor        VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,
    changes      JSON
);

-- Deleted contacts leave their own records behind, so deletions are logged here.
CREATE TABLE deletion_log (
    deleted_at   TIMESTAMP NOT NULL,
    actor        VARCHAR NOT NULL,
    contact_id   VARCHAR NOT NULL,
    snapshot     JSON NOT NULL
);

CREATE TABLE user_preferences (
    user_id      VARCHAR NOT NULL,
    key          VARCHAR NOT NULL,
    value        JSON NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Which demo contacts are the same person: ground truth for duplicate detection.
CREATE TABLE demo_truth (
    contact_id   VARCHAR PRIMARY KEY,
    person_id    BIGINT NOT NULL
);

CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX tickets_contact ON tickets (contact_id);
CREATE INDEX notes_contact ON notes (contact_id);
CREATE INDEX media_contact ON media (contact_id);
CREATE INDEX activity_contact ON activity (contact_id);
