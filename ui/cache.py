"""What every rerun would read again, read once per change: keyed by database path and a write stamp (core/stamps.py).

The workspace stamp moves after each write to custom fields, lead stages, users, settings, segments, table columns
or an import; the contacts stamp after every write. A cached value is never older than the last committed write
that could change it, and the first rerun after such a write reads it afresh. Pages say in a comment which of
these they use. The leading `_con` is not hashed (Streamlit skips arguments starting with an underscore).
"""

import time

import duckdb
import polars as pl
import streamlit as st

from core import workspace
from core.config import database_target
from core.contacts import validation
from core.contacts.models import ContactPage
from core.contacts.validation import CustomField
from core.stamps import contacts_stamp, workspace_stamp
from core.views import filters, segments
from core.views.filters import FilterField
from core.views.queries import ListView, list_contacts
from core.views.segments import Segment

_KEEP = 64  # entries per function: one per database and stamp (and user), old stamps fall out


def _path() -> str:
    return database_target()


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _filter_fields(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> dict[str, FilterField]:
    return filters.filter_fields(_con)


def filter_fields(con: duckdb.DuckDBPyConnection) -> dict[str, FilterField]:
    """core.views.filters.filter_fields, until the next workspace write."""
    return _filter_fields(con, _path(), workspace_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _custom_fields(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> list[CustomField]:
    return validation.custom_fields(_con)


def custom_fields(con: duckdb.DuckDBPyConnection) -> list[CustomField]:
    """core.contacts.validation.custom_fields, until the next workspace write."""
    return _custom_fields(con, _path(), workspace_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _owners(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> tuple[dict[str, str], dict[str, str]]:
    return workspace.owners(_con), workspace.owner_names(_con)


def owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """core.workspace.owners (active owners, by name), until the next workspace write."""
    return _owners(con, _path(), workspace_stamp(con))[0]


def owner_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """core.workspace.owner_names (deactivated ones too), until the next workspace write."""
    return _owners(con, _path(), workspace_stamp(con))[1]


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _lead_stages(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> list[str]:
    return workspace.lead_stages(_con)


def lead_stages(con: duckdb.DuckDBPyConnection) -> list[str]:
    """core.workspace.lead_stages, until the next workspace write."""
    return _lead_stages(con, _path(), workspace_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _column_choices(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> dict[str, str]:
    return workspace.column_choices(_con)


def column_choices(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """core.workspace.column_choices, until the next workspace write."""
    return _column_choices(con, _path(), workspace_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _table_columns(_con: duckdb.DuckDBPyConnection, path: str, stamp: int, user: str) -> list[str]:
    return workspace.table_columns(_con, user)


def table_columns(con: duckdb.DuckDBPyConnection, user: str) -> list[str]:
    """core.workspace.table_columns of a user, until the next workspace write (choosing columns is one)."""
    return _table_columns(con, _path(), workspace_stamp(con), user)


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _all_segments(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> list[Segment]:
    return segments.all_segments(_con)


def all_segments(con: duckdb.DuckDBPyConnection) -> list[Segment]:
    """core.views.segments.all_segments, until the next workspace write."""
    return _all_segments(con, _path(), workspace_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _tag_names(_con: duckdb.DuckDBPyConnection, path: str, stamp: int) -> list[str]:
    return workspace.tag_names(_con)


def tag_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """core.workspace.tag_names, until the next write of any kind (a contact edit may add a tag)."""
    return _tag_names(con, _path(), contacts_stamp(con))


@st.cache_data(max_entries=_KEEP, show_spinner=False)
def _segment_summaries(_con: duckdb.DuckDBPyConnection, path: str, stamp: int, user: str) -> pl.DataFrame:
    return segments.segment_summaries(_con, user)


def segment_summaries(con: duckdb.DuckDBPyConnection, user: str) -> pl.DataFrame:
    """core.views.segments.segment_summaries (with counts) for a user, until the next write of any kind."""
    return _segment_summaries(con, _path(), contacts_stamp(con), user)


@st.cache_data(max_entries=256, show_spinner=False)
def _list_page(
    _con: duckdb.DuckDBPyConnection, _view: ListView, path: str, stamp: int, minute: int, user: str, view: str
) -> ContactPage:
    return list_contacts(_con, _view, user)


def list_page(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> ContactPage:
    """core.views.queries.list_contacts, until the next write of any kind, and for a minute at most (a filter
    "within the last N days" moves with the clock): the list everyone opens first, a segment opened again, a
    page turned back cost no query."""
    return _list_page(con, view, _path(), contacts_stamp(con), int(time.time() // 60), user, view.model_dump_json())
