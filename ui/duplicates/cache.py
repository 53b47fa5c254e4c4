"""The detection results, computed once per run, threshold and kind, and forgotten after every write."""

import duckdb
import polars as pl
import streamlit as st

from core.config import database_path
from core.contacts.records import load_contacts
from core.duplicates import DuplicateRun, duplicate_groups
from core.duplicates.store import Kind


@st.cache_data(ttl=300, max_entries=16, show_spinner="Grouping duplicates…")
def _groups(
    _con: duckdb.DuckDBPyConnection, path: str, run_id: int, min_score: float, kind: Kind | None
) -> pl.DataFrame:
    return duplicate_groups(_con, min_score, kind)


def cached_groups(
    con: duckdb.DuckDBPyConnection, run: DuplicateRun, min_score: float, kind: Kind | None
) -> pl.DataFrame:
    """The members of every group of the last run at this threshold and kind (see duplicate_groups)."""
    return _groups(con, str(database_path()), run.run_id, round(min_score, 2), kind)


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _names(_con: duckdb.DuckDBPyConnection, path: str, ids: tuple[str, ...]) -> dict[str, str]:
    return {contact_id: contact.display_name for contact_id, contact in load_contacts(_con, list(ids)).items()}


def cached_names(con: duckdb.DuckDBPyConnection, ids: tuple[str, ...]) -> dict[str, str]:
    """The display names of the contacts that still exist among these, by ID.

    Cached like the groups: the list reruns on every click on the page, and its names do not change between writes.
    """
    return _names(con, str(database_path()), ids)


def forget_groups() -> None:
    """Contacts were merged or marked different, or duplicates found again: every cached list is out of date."""
    _groups.clear()
    _names.clear()
