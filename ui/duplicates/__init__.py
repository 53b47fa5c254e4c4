"""Pieces of the Duplicates page, one job a module.

cache: the detection results, cached per run, threshold and kind.
notices: the last run's line and the message a write leaves for the next run.
display: values, contacts and merge previews as people read them.
review: the group list, one group's evidence, contacts side by side, "not duplicates".
merge: one merge (a group, or contacts chosen in the list), previewed, then confirmed.
bulk_merge: many groups merged at once, confirmed, and the primaries they kept.
identity: which custom fields identify a contact.

Every value from the database reaches the screen as a table cell or escaped text.
"""
