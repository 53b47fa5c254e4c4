"""A small file workspace for the fault suite: two contacts with notes, a conversation and an identity."""

import json
from pathlib import Path

import duckdb

from core.channels.ingest import ingest_lines
from core.contacts.models import ContactInput
from core.contacts.records import add_note, create_contact
from core.db import open_database
from core.views.search_index import rebuild_search_index

try:  # sign-in (issue 12): a workspace needs its first admin before anyone writes
    from core.accounts.users import bootstrap_admin
except ImportError:  # pragma: no cover - before accounts existed
    bootstrap_admin = None


def webchat(contact_id: str, text: str = "Hello", at: str = "2026-11-25T09:30:00Z") -> str:
    return json.dumps({"type": "webchat", "contact_id": contact_id, "at": at, "text": text})


def inbox(social_id: str, email: str | None = None, at: str = "2026-11-25T09:31:00Z", channel: str = "WhatsApp") -> str:
    event = {"type": "inbox", "channel": channel, "social_id": social_id, "at": at, "text": "Hi"}
    return json.dumps(event | ({"email": email} if email else {}))


def open_workspace(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open (creating) a database with its admin."""
    con = open_database(path)
    if bootstrap_admin is not None:
        bootstrap_admin(con)
    return con


def seed(con: duckdb.DuckDBPyConnection, contact_ids: tuple[str, ...] = ("x", "y"), history: bool = True) -> None:
    """Contacts among 2,000 others; with `history`, a note, a Web Chat conversation and a WhatsApp identity each.

    Both matter: DuckDB 2.0.1 misses some conflicts on rows that were never updated before.
    """
    con.execute(
        "INSERT INTO contacts (contact_id, email, created_on, last_updated) "
        "SELECT 'filler' || i, 'filler' || i || '@example.com', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01' "
        "FROM range(2000) t(i)"
    )
    rebuild_search_index(con)  # written past the write paths that keep the search index
    for contact_id in contact_ids:
        create_contact(con, ContactInput(contact_id=contact_id, email=f"{contact_id}@example.com"), "admin")
    if not history:
        return
    for contact_id in contact_ids:
        add_note(con, contact_id, f"about {contact_id}", "admin")
    ingest_lines(con, [webchat(c) for c in contact_ids], "channels")
    ingest_lines(con, [inbox(f"+3461234{i:04d}", f"{c}@example.com") for i, c in enumerate(contact_ids)], "channels")
