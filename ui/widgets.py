"""Small shared pieces of page UI."""

import polars as pl
import streamlit as st

from core.errors import ContactsError


def int_param(name: str, default: int) -> int:
    """A positive integer from the URL's query parameters, else the default."""
    try:
        return max(1, int(st.query_params.get(name, default)))
    except ValueError:
        return default


def url_index(options: list[str], wanted: str) -> int:
    """Where the option a URL names stands among the options (the first one if it names none)."""
    return options.index(wanted) if wanted in options else 0


def for_display(rows: pl.DataFrame) -> pl.DataFrame:
    """Frame cells as people read them: tag lists joined, times to the minute, blanks blank."""
    readable = rows.with_columns(
        [pl.col(name).list.join(", ") for name, dtype in rows.schema.items() if dtype == pl.List(pl.String)]
        + [pl.col(name).dt.strftime("%Y-%m-%d %H:%M") for name, dtype in rows.schema.items() if dtype == pl.Datetime]
        + [pl.col(name).cast(pl.String) for name, dtype in rows.schema.items() if dtype in (pl.Date, pl.Boolean)]
    )
    return readable.with_columns(pl.col(pl.String).fill_null(""))


def show_error(error: ContactsError) -> None:
    """A user-fixable problem, shown as an error box."""
    st.error(error.message, icon=":material/error:")
