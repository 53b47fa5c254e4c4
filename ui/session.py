"""One DuckDB connection per server process, a cursor per script run, and the current user."""

import os
import re

import duckdb
import streamlit as st

from core.config import current_user, database_path
from core.db import open_database
from core.workspace import ensure_owner, user_role


@st.cache_resource(show_spinner="Opening the database…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    con = open_database(path, memory_limit=os.environ.get("CONTACTS_DB_MEMORY", "1GB"))
    ensure_owner(con, current_user())
    return con


def db() -> duckdb.DuckDBPyConnection:
    """A cursor on the app's one connection (DuckDB wants a cursor per thread)."""
    return _connection(str(database_path())).cursor()


def user() -> str:
    """Who is using the app (the configured local admin until login exists)."""
    return current_user()


def is_admin(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the current user may create, import, merge, bulk-edit, delete and configure."""
    return user_role(con, user()) == "admin"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text escaped so that Markdown shows it exactly as typed (names, notes: never markup)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
