"""The demo data generator; not part of the library's main path.

generator.py   generate_demo: orchestrates the steps below and writes every table
people.py      distinct people of every country: names, origin, phones, addresses, work, emails
duplicates.py  labelled extra copies of some people, made the way real duplicates are
lifecycle.py   contact ID, times, stage, owner, tags, subscriptions, sender ID, web visit
related.py     conversations, tickets, notes, media, activity log, custom values
draw.py        vectorised drawing helpers shared by the steps
reference.py   the reference tables in tables/ (countries, names, texts, weights), read once
"""
