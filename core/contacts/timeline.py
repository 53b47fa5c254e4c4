"""A contact's timeline: conversations, tickets, notes, media and activity, newest first."""

import duckdb
import polars as pl

from core.contacts.activity import describe_changes
from core.db import frame

_TIMELINE_SQL = """
SELECT started_at AS happened_at, 'conversation' AS kind,
       channel || ' conversation' || coalesce(': ' || subject, '') AS title,
       message_count || ' messages, last ' || strftime(last_message_at, '%Y-%m-%d %H:%M') || ', ' || status AS detail
FROM conversations WHERE contact_id = $id
UNION ALL
SELECT created_at, 'ticket', 'Ticket: ' || subject, status || ', ' || priority || ' priority'
FROM tickets WHERE contact_id = $id
UNION ALL
SELECT created_at, 'note', 'Note by ' || author, body FROM notes WHERE contact_id = $id
UNION ALL
SELECT created_at, 'media', file_name, mime_type || ', ' || (size_bytes // 1024) || ' KB'
FROM media WHERE contact_id = $id
UNION ALL
SELECT happened_at, 'activity', action || ' by ' || actor, CAST(changes AS VARCHAR)
FROM activity WHERE contact_id = $id
ORDER BY happened_at DESC, kind
LIMIT $limit
"""


def timeline(con: duckdb.DuckDBPyConnection, contact_id: str, limit: int = 500) -> pl.DataFrame:
    """Columns happened_at, kind, title, detail; newest first."""
    entries = frame(con, _TIMELINE_SQL, {"id": contact_id, "limit": limit})
    readable = [
        describe_changes(detail) if kind == "activity" else detail
        for kind, detail in zip(entries["kind"], entries["detail"], strict=True)
    ]
    return entries.with_columns(detail=pl.Series(readable, dtype=pl.String))


def related_counts(con: duckdb.DuckDBPyConnection, contact_id: str) -> dict[str, int]:
    """How many conversations, tickets, notes, media and activity entries a contact has."""
    counts = frame(
        con,
        "SELECT kind, count(*) AS n FROM (" + _TIMELINE_SQL.replace("LIMIT $limit", "") + ") GROUP BY kind",
        {"id": contact_id},
    )
    found = dict(zip(counts["kind"].to_list(), counts["n"].to_list(), strict=True))
    return {kind: found.get(kind, 0) for kind in ("conversation", "ticket", "note", "media", "activity")}
