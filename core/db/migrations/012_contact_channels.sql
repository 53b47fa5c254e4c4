-- A contact's additional emails and phones, beside the primary ones in contacts.email / contacts.phone.
-- Each value is normalised (emails lower-cased and checked, phones E.164), with an optional label
-- (work, home, mobile...) and its position in the contact's list. A value is kept once per contact.
CREATE TABLE contact_channels (
    contact_id VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL CHECK (kind IN ('email', 'phone')),
    value      VARCHAR NOT NULL,
    label      VARCHAR,
    position   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (contact_id, kind, value)
);
CREATE INDEX contact_channels_value ON contact_channels (value);
