"""Channels: Web Chat and Inbox events (events.py), their ingest (ingest.py), and names for anonymous visitors."""
