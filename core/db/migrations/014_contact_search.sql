-- Each contact's searchable text, precomputed on write (core/views/search_index.py keeps it current; the
-- SELECT below is its SEARCH_ROWS_SQL over every contact). No key: refreshes delete and insert a batch's rows.
CREATE TABLE contact_search (
    contact_id VARCHAR NOT NULL,
    text       VARCHAR,   -- first, last, "first last", email, additional emails and phones; lower-cased
    words      VARCHAR,   -- text, number and dropdown custom values, lower-cased (whole-word matches)
    phones     VARCHAR    -- primary and additional phones, E.164
);
INSERT INTO contact_search
SELECT c.contact_id,
       lower(concat_ws(chr(31), c.first_name, c.last_name, concat_ws(' ', c.first_name, c.last_name), c.email,
                       ch.channel_values)) AS text,
       lower(cv.words) AS words,
       concat_ws(chr(31), c.phone, ch.channel_phones) AS phones
FROM contacts c
LEFT JOIN (SELECT contact_id, string_agg(value, chr(31)) AS channel_values,
                  string_agg(value, chr(31)) FILTER (WHERE kind = 'phone') AS channel_phones
           FROM contact_channels GROUP BY contact_id) ch USING (contact_id)
LEFT JOIN (SELECT v.contact_id, string_agg(v.value, chr(31)) AS words
           FROM custom_values v JOIN custom_fields f ON f.key = v.field_key
           WHERE f.type IN ('text', 'number', 'dropdown') GROUP BY v.contact_id) cv USING (contact_id);

-- Custom values stored clustered by field (then contact): a condition on one field reads that field's row
-- groups only (DuckDB skips the others by their min/max), 60 -> 12 ms of CPU per field at 1,000,000 contacts.
-- Values written later are appended in the order they come (an import writes one field at a time).
CREATE TABLE custom_values_by_field (
    contact_id  VARCHAR NOT NULL,
    field_key   VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    PRIMARY KEY (contact_id, field_key)
);
INSERT INTO custom_values_by_field SELECT contact_id, field_key, value FROM custom_values ORDER BY field_key, contact_id;
DROP TABLE custom_values;
ALTER TABLE custom_values_by_field RENAME TO custom_values;
CREATE INDEX custom_values_contact ON custom_values (contact_id);
