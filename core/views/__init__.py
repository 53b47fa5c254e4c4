"""Views of the contact list: queries, quick search, filters, segments, and bulk actions over a selection."""
