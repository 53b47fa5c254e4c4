"""One DuckDB connection per server process, a cursor per script run, and the signed-in user (ui/login.py)."""

import os
import re
import threading

import duckdb

from core.config import database_target
from core.db import open_database
from core.jobs import mark_interrupted
from core.workspace import user_role


class _ProcessConnections:
    """One open database per path (or PostgreSQL URL) for the whole process: the pages and the ingest endpoint share it.

    Not st.cache_resource: the endpoint runs outside any script run. And one object, not two opens:
    DuckDB holds a file once per process (a second open with other settings fails), and a single
    connection lets its cursors see each other's commits at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, duckdb.DuckDBPyConnection] = {}

    def __call__(self, path: str) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if path not in self._open:
                con = open_database(path, memory_limit=os.environ.get("CONTACTS_DB_MEMORY", "1GB"))
                mark_interrupted(con)  # jobs a previous process left running (core/jobs.py) cannot finish now
                self._open[path] = con
            return self._open[path]

    def clear(self) -> None:
        """Close every connection (tests switch databases between runs)."""
        with self._lock:
            for con in self._open.values():
                con.close()
            self._open.clear()


_connection = _ProcessConnections()


def db() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's one connection (DuckDB wants a cursor per thread)."""
    return _connection(database_target()).cursor()


def user() -> str:
    """Who is signed in (app.py's login gate runs before any page, so a page always has one)."""
    import streamlit as st

    return str(st.session_state.get("signed_in_user", ""))


def is_admin(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the current user may create, import, merge, bulk-edit, delete and configure."""
    return user_role(con, user()) == "admin"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text escaped so that Markdown shows it exactly as typed (names, notes: never markup)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
