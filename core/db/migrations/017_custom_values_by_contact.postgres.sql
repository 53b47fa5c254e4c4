-- PostgreSQL's spelling of 017_custom_values_by_contact.sql (PostgreSQL has no PIVOT): a row per contact with a
-- text column per custom field, keyed by contact_id and carrying the contact's integer key (contacts.row_key).
-- The key as migration 016 defines it, made here when 016 has not run (it is not on PostgreSQL yet).
CREATE SEQUENCE IF NOT EXISTS contact_row_key_seq;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS row_key BIGINT DEFAULT nextval('contact_row_key_seq');
CREATE TABLE custom_values_by_contact (
    contact_id  VARCHAR PRIMARY KEY,
    row_key     BIGINT NOT NULL
);
DO $migration$
DECLARE
    field RECORD;
BEGIN
    FOR field IN SELECT key FROM custom_fields ORDER BY position LOOP
        EXECUTE format('ALTER TABLE custom_values_by_contact ADD COLUMN %I VARCHAR', field.key);
    END LOOP;
    INSERT INTO custom_values_by_contact (contact_id, row_key)
    SELECT DISTINCT c.contact_id, c.row_key
    FROM custom_values v JOIN custom_fields f ON f.key = v.field_key JOIN contacts c ON c.contact_id = v.contact_id;
    FOR field IN SELECT key FROM custom_fields LOOP
        EXECUTE format(
            'UPDATE custom_values_by_contact t SET %I = v.value FROM custom_values v '
            'WHERE v.contact_id = t.contact_id AND v.field_key = %L',
            field.key, field.key
        );
    END LOOP;
END
$migration$;

DROP TABLE custom_values;
ALTER TABLE custom_values_by_contact RENAME TO custom_values;
