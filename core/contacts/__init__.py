"""Contacts themselves: the field catalogue, models, validation and normalisation, records, activity, timeline."""
