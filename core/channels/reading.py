"""What the pages show of the channels: a contact's identities, conversations and refused events, the
latest ingest runs, and whether the chat widget offers its button."""

import duckdb
import polars as pl

from core.db import frame, scalar
from core.duplicates.merged_ids import merged_into


def chat_button_visible(con: duckdb.DuckDBPyConnection, cookie_contact_id: str | None) -> bool:
    """Whether the chat widget shows its button to the browser holding this cookie contact ID."""
    if not cookie_contact_id:
        return True
    contact_id = merged_into(con, [cookie_contact_id]).get(cookie_contact_id, cookie_contact_id)
    return not scalar(con, "SELECT blocked FROM contacts WHERE contact_id = ?", [contact_id])


def contact_identities(con: duckdb.DuckDBPyConnection, contact_id: str) -> pl.DataFrame:
    """A contact's channel identities: channel, social_id, first_seen, last_seen."""
    return frame(
        con,
        "SELECT channel, social_id, first_seen, last_seen FROM channel_identities "
        "WHERE contact_id = ? ORDER BY first_seen, channel",
        [contact_id],
    )


def contact_conversations(con: duckdb.DuckDBPyConnection, contact_id: str) -> pl.DataFrame:
    """A contact's conversations, newest first: kind, channel, subject, started, last message, count, status,
    and conversation_id (to open one with conversation_messages)."""
    return frame(
        con,
        "SELECT kind, channel, subject, started_at, last_message_at, message_count, status, conversation_id "
        "FROM conversations WHERE contact_id = ? ORDER BY last_message_at DESC, conversation_id DESC",
        [contact_id],
    )


def conversation_messages(con: duckdb.DuckDBPyConnection, conversation_id: int) -> pl.DataFrame:
    """A conversation's messages, oldest first: sent_at, channel, direction ('in' from the contact), text."""
    return frame(
        con,
        "SELECT sent_at, channel, direction, text FROM messages WHERE conversation_id = ? ORDER BY sent_at, message_id",
        [conversation_id],
    )


def refused_count(con: duckdb.DuckDBPyConnection, contact_id: str) -> int:
    """How many channel events from this contact were refused because it was blocked."""
    return scalar(con, "SELECT refused_count FROM channel_refusals WHERE contact_id = ?", [contact_id]) or 0


def recent_ingest_runs(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pl.DataFrame:
    """The latest ingest runs with their counts, newest first."""
    return frame(
        con,
        "SELECT run_id, started_at, finished_at, actor, origin, events, created, updated, conversations_opened, "
        "conversations_continued, refused_blocked, malformed, CAST(malformed_lines AS VARCHAR) AS malformed_lines "
        "FROM ingest_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    )
