-- The messages of conversations: one row per channel event that carried a text (and the demo's threads).
-- message_key identifies the event that brought the message (its sender on the channel, time and text), so
-- replaying a file of events adds no message twice (INSERT ... ON CONFLICT (message_key) DO NOTHING); it does
-- not name the contact, which a merge changes.
CREATE TABLE messages (
    message_id       BIGINT PRIMARY KEY DEFAULT nextval('related_id_seq'),
    message_key      UHUGEINT NOT NULL UNIQUE,
    conversation_id  BIGINT NOT NULL,
    contact_id       VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    direction        VARCHAR NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),  -- from the contact, or to it
    sent_at          TIMESTAMP NOT NULL,
    text             VARCHAR NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id);
CREATE INDEX messages_contact ON messages (contact_id);
