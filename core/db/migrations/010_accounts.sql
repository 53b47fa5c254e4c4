-- Accounts: the users (table owners) sign in with a password hashed by argon2 (never kept in clear);
-- a signed-in browser holds a random session token whose SHA-256 is kept here with its last use, so
-- an idle session expires; failed sign-ins are kept for a while to slow down guessing; every change an
-- admin makes to the workspace (fields, stages, users, settings) is logged with who and when.
ALTER TABLE owners ADD COLUMN password_hash VARCHAR;

CREATE TABLE sessions (
    token_hash  VARCHAR PRIMARY KEY,
    user_id     VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL
);

CREATE TABLE sign_in_failures (
    failed_at   TIMESTAMP NOT NULL,
    user_id     VARCHAR NOT NULL,
    client      VARCHAR NOT NULL
);

CREATE TABLE workspace_log (
    happened_at TIMESTAMP NOT NULL,
    actor       VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,
    details     JSON
);

INSERT INTO settings VALUES ('session_idle_minutes', '480');
