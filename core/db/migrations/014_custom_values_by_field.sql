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
