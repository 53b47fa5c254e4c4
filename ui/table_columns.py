"""Customise table: which fields the contacts table shows and in what order, kept for the user at each change.

The picker's state lives under one widget key, so several changes in one opening all count (a widget whose
default moved with each change used to start afresh and drop the second one); up and down move a column.
"""

import duckdb
import streamlit as st

from core.errors import ContactsError
from core.workspace import set_table_columns
from ui.cache import column_choices, table_columns  # until the next workspace write (choosing columns is one)
from ui.session import db, user
from ui.widgets import show_error

PICKED = "table-columns"


def _save(columns: list[str]) -> None:
    try:
        set_table_columns(db(), user(), columns)
    except ContactsError as error:
        st.session_state[f"{PICKED}-error"] = error


def _picked() -> None:
    _save(st.session_state[PICKED])


def _move(index: int, step: int) -> None:
    columns = list(st.session_state[PICKED])
    columns[index], columns[index + step] = columns[index + step], columns[index]
    st.session_state[PICKED] = columns
    _save(columns)


def column_picker(con: duckdb.DuckDBPyConnection, me: str) -> list[str]:
    """The Customise table popover; returns the columns to show, in order."""
    choices = column_choices(con)
    if PICKED not in st.session_state:
        st.session_state[PICKED] = table_columns(con, me)
    with st.popover("Customise table", icon=":material/view_column:", width="stretch"):
        st.multiselect(
            "Fields visible in table",
            list(choices),
            key=PICKED,
            format_func=lambda key: choices.get(key, key),
            on_change=_picked,
        )
        error = st.session_state.pop(f"{PICKED}-error", None)
        if error is not None:
            show_error(error)
        shown: list[str] = st.session_state[PICKED]
        st.markdown("**Order**, first on the left")
        for index, column in enumerate(shown):
            row = st.columns([5, 1, 1], vertical_alignment="center")
            row[0].write(choices.get(column, column))
            row[1].button(
                "",
                icon=":material/arrow_upward:",
                key=f"{PICKED}-up-{column}",
                disabled=index == 0,
                help=f"Move {choices.get(column, column)} left",
                on_click=_move,
                args=(index, -1),
            )
            row[2].button(
                "",
                icon=":material/arrow_downward:",
                key=f"{PICKED}-down-{column}",
                disabled=index == len(shown) - 1,
                help=f"Move {choices.get(column, column)} right",
                on_click=_move,
                args=(index, 1),
            )
    return list(st.session_state[PICKED]) or table_columns(con, me)
