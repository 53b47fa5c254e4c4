"""Exporting the current view (segment, filter, search) to CSV, XLSX, Parquet or vCard.

What a person opens: headers are the field labels (keys on request, for machines), owners are names, the
columns are the user's table columns unless all fields are asked for, and every contact's additional emails
and phones come along. In XLSX every text value is a text cell, so nothing is prefixed; in CSV only a value a
spreadsheet would run as a formula gets an apostrophe (a phone number or a negative number is data).
"""

import io
import re
from typing import Literal

import duckdb
import polars as pl
import xlsxwriter

from core.accounts.permissions import writes
from core.contacts.custom_values import value_column
from core.contacts.fields import SYSTEM_FIELD_BY_KEY, SYSTEM_FIELDS
from core.contacts.validation import custom_fields
from core.db import frame
from core.db.dialect import dialect
from core.db.extract import arrow_frame
from core.errors import ContactsError
from core.views.queries import ListView, view_condition

ExportFormat = Literal["csv", "xlsx", "parquet", "vcf"]
Headers = Literal["labels", "keys"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "parquet", "vcf")
CHANNEL_COLUMNS = {"additional_emails": "Additional emails", "additional_phones": "Additional phones"}
CHANNEL_FIELDS = ["value", "label"]
CHANNEL_LIST = pl.List(pl.Struct({"value": pl.String, "label": pl.String}))
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection) ...
_FORMULA_START = r"^[=+\-@\t\r]"
# ... except a sign before a number, a phone or a date: digits, spaces, dots, dashes, slashes and brackets.
# A list of phones with their labels ('+15555551112 (work), +15555551113') is data too: a label is letters in
# brackets after a space, never a name before a bracket, so nothing in it can be a function a spreadsheet calls.
_NUMBER = r"[\d\s.\-/()]*\d[\d\s.\-/()]*(?:\s\([\p{L} ]+\))?"
_SIGNED_DATA = rf"^[+\-]{_NUMBER}(?:,\s*\+?{_NUMBER})*$"
# A value that already starts with apostrophes before one of them gets one more, so the import, which takes one
# off, gives back what was stored ("'=x" stays "'=x", "'-5" stays "'-5").
_GUARDED = r"^'+[=+\-@\t\r]"


def _columns(con: duckdb.DuckDBPyConnection, columns: list[str] | None) -> tuple[list[str], list[str]]:
    """System keys and custom keys to export: the given table columns, or every field (all from allow-lists)."""
    keys = [f.key for f in custom_fields(con)]
    for key in keys:
        if not _KEY.match(key):
            raise ContactsError(f"'{key}' is not a valid custom field key.")
    if columns is None:
        return [field.key for field in SYSTEM_FIELDS], keys
    system = ["contact_id", *[c for c in columns if c in SYSTEM_FIELD_BY_KEY and c != "contact_id"]]
    custom = [c.removeprefix("custom.") for c in columns if c.startswith("custom.") and c[7:] in keys]
    return system, custom


@writes("contacts.export", actor="user")
def export_frame(
    con: duckdb.DuckDBPyConnection, view: ListView, user: str, columns: list[str] | None = None
) -> pl.DataFrame:
    """The contacts of the view in list order, keyed columns: `columns` (None: every system and custom field),
    then each contact's additional emails and phones as lists of {value, label}."""
    where, params = view_condition(con, view, user)
    system, keys = _columns(con, columns)
    selected = ", ".join(f"c.{key}" for key in system)
    pivot = "LEFT JOIN custom_values cv USING (contact_id)" if keys else ""
    extra = "".join(f', {value_column(key, "cv")} AS "custom.{key}"' for key in keys)
    d = dialect(con)
    emails = d.record_list_agg(CHANNEL_FIELDS, "position", "kind = 'email'")
    phones = d.record_list_agg(CHANNEL_FIELDS, "position", "kind = 'phone'")
    channels = (
        f"LEFT JOIN (SELECT contact_id, {emails} AS additional_emails, {phones} AS additional_phones "
        "FROM contact_channels GROUP BY contact_id) ch USING (contact_id)"
    )
    none = d.empty_record_list(CHANNEL_FIELDS)
    # Read as Arrow on PostgreSQL (ADBC): building the frame from psycopg's rows took 11 of 14 s at 100,000.
    data = arrow_frame(
        con,
        f"SELECT {selected}{extra}, coalesce(ch.additional_emails, {none}) AS additional_emails, "
        f"coalesce(ch.additional_phones, {none}) AS additional_phones FROM contacts c {pivot} {channels} WHERE {where} "
        f"ORDER BY c.{view.sort} {'DESC' if view.descending else 'ASC'} NULLS LAST, c.contact_id",
        params,
    )
    # PostgreSQL answers the lists as JSON text (DuckDB as lists of structs already).
    return data.with_columns(
        pl.col(name).str.json_decode(CHANNEL_LIST) for name in CHANNEL_COLUMNS if data.schema[name] == pl.String
    )


def neutralise_formulas(data: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run (=, @, tab, CR first; + or - unless a number or phone follows)
    prefixed with an apostrophe."""
    text = [name for name, dtype in data.schema.items() if dtype == pl.String]
    return data.with_columns(
        pl.when(
            (pl.col(name).str.contains(_FORMULA_START) & ~pl.col(name).str.contains(_SIGNED_DATA))
            | pl.col(name).str.contains(_GUARDED)
        )
        .then("'" + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def labelled(item: pl.Expr) -> pl.Expr:
    """An additional email or phone {value, label} as text: 'ada@work.example (work)', or the value alone; the
    import reads the label back from the brackets."""
    label = item.struct.field("label")
    return pl.concat_str(
        item.struct.field("value"),
        pl.when(label.is_not_null() & (label != "")).then(pl.lit(" (") + label + pl.lit(")")).otherwise(pl.lit("")),
    )


def _flat(data: pl.DataFrame) -> pl.DataFrame:
    """Lists (tags; additional emails and phones with their labels) as 'a, b' text, for formats without lists."""
    lists = [name for name, dtype in data.schema.items() if isinstance(dtype, pl.List)]
    texts = {
        name: pl.col(name).list.eval(labelled(pl.element()))
        if isinstance(data.schema[name].inner, pl.Struct)  # type: ignore[attr-defined]
        else pl.col(name)
        for name in lists
    }
    return data.with_columns(
        pl.when(pl.col(name).list.len() > 0).then(text.list.join(", ")).alias(name) for name, text in texts.items()
    )


def csv_bytes(data: pl.DataFrame) -> bytes:
    """A frame as every CSV the app writes (duplicates --out, rejected rows): lists as text, formulas neutralised."""
    return neutralise_formulas(_flat(data)).write_csv().encode("utf-8")


def for_people(con: duckdb.DuckDBPyConnection, data: pl.DataFrame, headers: Headers = "labels") -> pl.DataFrame:
    """Owners as names, and (with labels) every column named as the page names it."""
    if "owner_id" in data.columns:
        names = pl.DataFrame(
            frame(con, "SELECT owner_id, name FROM owners").rows(), schema=["owner_id", "__owner"], orient="row"
        )
        data = (
            data.join(names, on="owner_id", how="left", maintain_order="left")
            .with_columns(pl.coalesce("__owner", "owner_id").alias("owner_id"))
            .drop("__owner")
        )
    if headers == "keys":
        return data
    labels = {f"custom.{field.key}": field.label for field in custom_fields(con)}
    labels |= {key: field.label for key, field in SYSTEM_FIELD_BY_KEY.items()} | CHANNEL_COLUMNS
    renamed, seen = {}, set()
    for column in data.columns:
        label = labels.get(column, column)
        label = label if label not in seen else f"{label} ({column})"  # a custom field labelled like a system one
        renamed[column] = label
        seen.add(label)
    return data.rename(renamed)


def export_bytes(data: pl.DataFrame, fmt: ExportFormat) -> bytes:
    """The frame written in a format: CSV with formulas neutralised, XLSX with text as text cells."""
    buffer = io.BytesIO()
    if fmt == "parquet":
        data.write_parquet(buffer)
    elif fmt == "csv":
        neutralise_formulas(_flat(data)).write_csv(buffer)
    elif fmt == "xlsx":
        # Strings stay strings: no formula, number or link is read into a text value.
        options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
        with xlsxwriter.Workbook(buffer, options) as book:
            _flat(data).write_excel(
                book, worksheet="Contacts", autofit=False, column_formats=None, dtype_formats=None, include_header=True
            )
    elif fmt == "vcf":
        from core.vcard import write_vcards

        return write_vcards(data)
    else:
        raise ContactsError(f"Export formats are {', '.join(FORMATS)}.")
    return buffer.getvalue()


@writes("contacts.export", actor="user")
def export_view(
    con: duckdb.DuckDBPyConnection,
    view: ListView,
    user: str,
    fmt: ExportFormat,
    all_fields: bool = False,
    headers: Headers = "labels",
) -> bytes:
    """The view's contacts as a file: the table's columns (or every field), labelled headers (or keys)."""
    data = export_frame(con, view, user, None if all_fields or fmt in ("vcf", "parquet") else view.columns)
    if fmt == "vcf":
        return export_bytes(for_people(con, data, "keys"), fmt)
    return export_bytes(data if fmt == "parquet" else for_people(con, data, headers), fmt)
