-- Drop migration 031's indexes on contacts (see there): DuckDB rewrites an indexed row on every update, which
-- made a 1,000,000-row upsert 5 times slower, for a look-up the Contact page makes once per open (31 ms at 1M).
DROP INDEX IF EXISTS contacts_phone;
DROP INDEX IF EXISTS contacts_email_trimmed;
