"""The workspace log: every change an admin makes to fields, stages, users and settings, with who and when."""

import json
from typing import Any

import duckdb
import polars as pl

from core.contacts.activity import now
from core.db import frame


def log_workspace_change(con: duckdb.DuckDBPyConnection, actor: str, action: str, details: dict[str, Any]) -> None:
    """Record one change (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO workspace_log VALUES (?, ?, ?, ?)", [now(), actor, action, json.dumps(details, default=str)]
    )


def workspace_log(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The latest workspace changes, newest first."""
    return frame(
        con,
        "SELECT happened_at, actor, action, details FROM workspace_log ORDER BY happened_at DESC LIMIT ?",
        [limit],
    )
