"""Exporting the current view (segment, filter, search) to CSV, XLSX or Parquet."""

import io
import re
from typing import Literal

import duckdb
import polars as pl

from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.validation import custom_fields
from core.db import frame
from core.errors import ContactsError
from core.views.queries import ListView, view_condition

ExportFormat = Literal["csv", "xlsx", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "parquet")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = r"^[=+\-@\t\r]"


def export_frame(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> pl.DataFrame:
    """Every contact in the view with every system and custom field, in list order."""
    where, params = view_condition(con, view, user)
    keys = [f.key for f in custom_fields(con)]
    for key in keys:
        if not _KEY.match(key):
            raise ContactsError(f"'{key}' is not a valid custom field key.")
    custom = ", ".join(f"max(value) FILTER (WHERE field_key = '{key}') AS \"custom.{key}\"" for key in keys)
    columns = ", ".join(f"c.{field.key}" for field in SYSTEM_FIELDS)
    pivot = ""
    if keys:
        pivot = f"LEFT JOIN (SELECT contact_id, {custom} FROM custom_values GROUP BY contact_id) cv USING (contact_id)"
    extra = "".join(f', cv."custom.{key}"' for key in keys)
    return frame(
        con,
        f"SELECT {columns}{extra} FROM contacts c {pivot} WHERE {where} "
        f"ORDER BY c.{view.sort} {'DESC' if view.descending else 'ASC'} NULLS LAST, c.contact_id",
        params,
    )


def neutralise_formulas(data: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run (=, +, -, @, tab, CR first) prefixed with an apostrophe."""
    text = [name for name, dtype in data.schema.items() if dtype == pl.String]
    return data.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_START)).then("'" + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in text
    )


def _flat(data: pl.DataFrame) -> pl.DataFrame:
    """Lists (tags) as 'a, b' text, for formats without lists."""
    lists = [name for name, dtype in data.schema.items() if isinstance(dtype, pl.List)]
    return data.with_columns(pl.col(name).list.join(", ") for name in lists)


def csv_bytes(data: pl.DataFrame) -> bytes:
    """A frame as every CSV the app writes (duplicates --out, rejected rows): lists as text, formulas neutralised."""
    return neutralise_formulas(_flat(data)).write_csv().encode("utf-8")


def export_bytes(data: pl.DataFrame, fmt: ExportFormat) -> bytes:
    """The frame written in a format; CSV and XLSX with formulas neutralised."""
    buffer = io.BytesIO()
    if fmt == "parquet":
        data.write_parquet(buffer)
    elif fmt == "csv":
        neutralise_formulas(_flat(data)).write_csv(buffer)
    elif fmt == "xlsx":
        safe = neutralise_formulas(_flat(data))
        # Strings stay strings: xlsxwriter would otherwise turn '=..' into a formula or '1e5' into a number.
        safe.write_excel(
            buffer, worksheet="Contacts", autofit=False, column_formats=None, dtype_formats=None, include_header=True
        )
    else:
        raise ContactsError(f"Export formats are {', '.join(FORMATS)}.")
    return buffer.getvalue()


def export_view(con: duckdb.DuckDBPyConnection, view: ListView, user: str, fmt: ExportFormat) -> bytes:
    """The view's contacts as a file in the chosen format."""
    return export_bytes(export_frame(con, view, user), fmt)
