-- A contact's page asks which other contacts hold its phone or its mailbox (core.duplicates.store
-- .same_email_or_phone); without these each open scanned every contact's phone and email (66 ms at 1M).
CREATE INDEX contacts_phone ON contacts (phone);
CREATE INDEX contacts_email_trimmed ON contacts ((lower(trim(email))));
