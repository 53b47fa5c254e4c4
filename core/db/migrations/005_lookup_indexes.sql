-- A contact's custom values are read on every details page and update; the composite primary key
-- cannot serve a lookup by contact_id alone, so without this each read scans every value.
CREATE INDEX custom_values_contact ON custom_values (contact_id);
