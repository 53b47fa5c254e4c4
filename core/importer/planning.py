"""The dry run: every row cleaned, validated and matched over the whole batch, nothing written.

Each field column is checked by its rule (core.contacts.rules, through core.importer.cleaning) over all rows
at once; matching against the database is one DuckDB join.
"""

from dataclasses import dataclass, field
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, Field

from core.contacts.models import CustomField
from core.contacts.validation import custom_fields
from core.db import Scratch, scratch
from core.db import frame as query_frame
from core.errors import ContactsError
from core.importer.alignment import Alignment, apply_alignment, find_alignment, length_warnings
from core.importer.cleaning import (
    MORE_EMAILS,
    MORE_PHONES,
    WARNING_SCHEMA,
    clean_fields,
    empty_warnings,
    error_rows,
    warning_rows,
)
from core.importer.mapping import MAX_NOTE_LENGTH, NOTE, check_mapping, new_field_key
from core.importer.reading import CELLS, LINE, MOSTLY_UTF8, RawTable
from core.workspace import owners

Mode = Literal["create", "update", "upsert"]
Rule = Literal["overwrite", "fill", "append"]
ACTION, TARGET = "__action", "__target_id"
MATCH_KEYS = ("contact_id", "email", "phone")  # what matches an existing contact and combines rows of a file
NAME_KEYS = ("first_name", "last_name", "company")  # enough to make a contact, never to match one
NOTHING_IDENTIFIES = "nothing identifies the row: no valid contact ID, email, phone, name or company"
_NEUTRALISED = r"^'('*[=+\-@\t\r])"  # the apostrophe our export puts before a formula (core/exporting.py)


class ImportOptions(BaseModel):
    """What the user chose: mode, column mapping, update rule per field, tags and owner for every row."""

    mode: Mode = "upsert"
    mapping: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    owner_id: str | None = None
    date_orders: dict[str, str] = Field(default_factory=dict)  # column -> "day first" / "month first"
    missing_column: str | None = None  # the column short rows lack ('' for the end); None: found from values
    keep_unmapped: bool = False  # every unmapped column becomes a new custom field


@dataclass
class ImportPlan:
    """The dry run's outcome: staged rows with their action, rejected rows and values left out, with reasons."""

    file_name: str
    options: ImportOptions
    staged: pl.DataFrame  # one row per contact: __line, __action, __target_id and field columns
    errors: pl.DataFrame  # line, column, reason: why each rejected row is rejected
    rejected_rows: pl.DataFrame  # the original cells of each rejected line, with its line and reason
    total_rows: int
    new_fields: dict[str, str] = field(default_factory=dict)  # custom key -> label, made at commit
    skip_reasons: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"line": pl.Int64, "reason": pl.String})
    )
    warnings: pl.DataFrame = field(default_factory=empty_warnings)  # line, column, value, reason, action
    encoding: str = "utf-8"
    alignment: Alignment | None = None
    unmapped: list[str] = field(default_factory=list)
    date_orders: dict[str, str] = field(default_factory=dict)  # date column -> order used
    combined: int = 0  # rows folded into an earlier row of the same contact

    def counts(self) -> dict[str, int]:
        """How many rows will be created, updated, skipped and rejected."""
        actions = self.staged[ACTION].value_counts()
        found = dict(zip(actions[ACTION].to_list(), actions["count"].to_list(), strict=True))
        return {
            "created": found.get("create", 0),
            "updated": found.get("update", 0),
            "skipped": found.get("skip", 0),
            "rejected": self.rejected_rows.height,
        }

    def report(self, limit: int | None = None) -> dict:
        """The JSON report: counts, encoding, errors [{line, column, reason}], warnings [{line, column, value,
        reason, action}], skips [{line, reason}], unmapped columns, the short rows' alignment and the date orders."""
        errors = self.errors if limit is None else self.errors.head(limit)
        skips = self.skip_reasons if limit is None else self.skip_reasons.head(limit)
        warnings = self.warnings if limit is None else self.warnings.head(limit)
        alignment = None
        if self.alignment is not None:
            alignment = {
                "cells": self.alignment.cells,
                "rows": self.alignment.rows,
                "missing_column": self.alignment.missing,
                "chosen_by": self.alignment.chosen_by,
            }
        return {
            **self.counts(),
            "combined": self.combined,
            "encoding": self.encoding,
            "errors": errors.to_dicts(),
            "warnings": warnings.to_dicts(),
            "skips": skips.to_dicts(),
            "unmapped": self.unmapped,
            "alignment": alignment,
            "date_orders": self.date_orders,
        }

    def problems(self) -> pl.DataFrame:
        """Both lists as one table, for the downloadable error file: rejected rows, then values left out."""
        rejected = self.errors.select(
            "line",
            pl.lit("row rejected").alias("outcome"),
            "column",
            pl.lit(None, pl.String).alias("value"),
            "reason",
            pl.lit("not imported").alias("action"),
        )
        dropped = self.warnings.select(
            "line", pl.lit("value warned").alias("outcome"), *WARNING_SCHEMA.keys() - {"line"}
        )
        dropped = dropped.select(rejected.columns)
        blank_as_null = [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in ("column", "value")]
        return pl.concat([rejected, dropped]).with_columns(blank_as_null).sort("line", maintain_order=True)


def plan_import(con: duckdb.DuckDBPyConnection, table: RawTable, options: ImportOptions) -> ImportPlan:
    """Validate, normalise and match every row of the file; writes nothing."""
    requested = dict(options.mapping)
    unmapped = [h for h in table.headers if not requested.get(h)]
    if options.keep_unmapped:
        requested |= {h: f"new:{h}" for h in unmapped}
    mapping = {c: t for c, t in check_mapping(con, table.headers, requested).items() if t}
    if options.owner_id and options.owner_id not in owners(con):
        raise ContactsError(f"'{options.owner_id}' is not an owner.", field="owner_id")
    new_fields = {
        new_field_key(t.removeprefix("new:")): t.removeprefix("new:").strip()
        for t in mapping.values()
        if t.startswith("new:")
    }
    known = {f.key: f for f in custom_fields(con)}
    for key in list(new_fields):
        if key in known:
            new_fields.pop(key)  # an existing field of that key takes the values
    fields = {**known, **{k: CustomField(key=k, label=v, type="text", position=0) for k, v in new_fields.items()}}
    guarded = table.kind == "csv"  # only a CSV's cells carry the apostrophe our export puts before a formula
    source = table.frame.select(pl.col(LINE), pl.col(CELLS), *[_text(c, guarded) for c in table.headers])
    alignment = find_alignment(source, table.headers, mapping, options.missing_column)
    source = apply_alignment(source, table.headers, alignment)
    values, warnings, date_orders = clean_fields(con, source, mapping, fields, options.date_orders)
    read = [table.warnings] if table.warnings is not None else []
    warnings = [*read, length_warnings(source, table.headers, alignment), _undecodable(source, table), *warnings]
    has_identity = _has_identity(values)
    no_identity = values.filter(~has_identity).select(
        pl.col(LINE).alias("line"),
        pl.lit("").alias("column"),
        pl.lit(NOTHING_IDENTIFIES).alias("reason"),
    )
    note_column = next((column for column, target in mapping.items() if target == NOTE), "")
    staged, dup_errors, combine_warnings = _match(con, values.filter(has_identity), options.mode, note_column)
    skips = _skip_reasons(staged)
    error_frame = pl.concat([no_identity, dup_errors]).sort("line")
    warning_frame = pl.concat([*warnings, combine_warnings], how="vertical_relaxed")
    warning_frame = warning_frame.sort("line", maintain_order=True)
    rejected = table.frame.join(error_frame.rename({"line": LINE}), on=LINE, how="inner").select(
        pl.col(LINE).alias("line"), *table.headers, "reason"
    )
    return ImportPlan(
        table.file_name,
        options,
        staged,
        error_frame,
        rejected,
        table.row_count,
        new_fields,
        skip_reasons=skips,
        warnings=warning_frame,
        encoding=table.encoding,
        alignment=alignment,
        unmapped=unmapped,
        date_orders=date_orders,
        combined=combine_warnings.filter(pl.col("action").str.starts_with("combined")).height,
    )


def _empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.Int64, "column": pl.String, "reason": pl.String})


def _text(column: str, guarded: bool = True) -> pl.Expr:
    """A cell trimmed, blank as null, and (`guarded`: a CSV's) formula guard our own export added taken off again."""
    cleaned = pl.col(column).str.strip_chars()
    if guarded:
        cleaned = cleaned.str.replace(_NEUTRALISED, "$1")
    return pl.when(cleaned == "").then(None).otherwise(cleaned).alias(column)


def _undecodable(source: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """A warning for each line of a mostly-UTF-8 file that held bytes UTF-8 cannot read."""
    if table.encoding != MOSTLY_UTF8:
        return empty_warnings()
    bad = pl.any_horizontal(pl.col(h).str.contains("\ufffd", literal=True).fill_null(False) for h in table.headers)
    return source.filter(bad).select(
        pl.col(LINE).alias("line"),
        pl.lit("").alias("column"),
        pl.lit("").alias("value"),
        pl.lit("the line has bytes that are not UTF-8").alias("reason"),
        pl.lit("read as \ufffd; the rest of the file stays UTF-8").alias("action"),
    )


def _has_identity(values: pl.DataFrame) -> pl.Expr:
    """A valid contact ID, email or phone, or else a name or a company: what lets a row be a contact."""
    present = [pl.col(k).is_not_null() for k in (*MATCH_KEYS, *NAME_KEYS) if k in values.columns]
    return pl.any_horizontal(present) if present else pl.lit(False)


def _match_key(values: pl.DataFrame) -> pl.Expr:
    """Whether the row has what matches a contact (its ID, an email or a phone): a name alone matches none."""
    present = [pl.col(k).is_not_null() for k in MATCH_KEYS if k in values.columns]
    return pl.any_horizontal(present) if present else pl.lit(False)


def _skip_reasons(staged: pl.DataFrame) -> pl.DataFrame:
    """Why each skipped row is skipped (line, reason)."""
    matchable = _match_key(staged)
    reason = (
        pl.when(pl.col(TARGET).is_not_null())
        .then(pl.lit("an existing contact has its contact ID, email or phone (create only)"))
        .when(matchable)
        .then(pl.lit("no existing contact has its contact ID, email or phone (update only)"))
        .otherwise(pl.lit("only a name or a company: it cannot match an existing contact (update only)"))
    )
    return staged.filter(pl.col(ACTION) == "skip").select(pl.col(LINE).alias("line"), reason.alias("reason"))


def _first_holder(kind: str, keys: Scratch) -> str:
    """(value, contact_id): the first contact holding each of the keys' emails or phones, primary or additional."""
    return f"""(SELECT value, min(contact_id) AS contact_id FROM (
                   SELECT {kind} AS value, contact_id FROM contacts WHERE {kind} IN (SELECT {kind} FROM {keys})
                   UNION ALL
                   SELECT value, contact_id FROM contact_channels
                   WHERE kind = '{kind}' AND value IN (SELECT {kind} FROM {keys}))
               GROUP BY value)"""


def _match(
    con: duckdb.DuckDBPyConnection, good: pl.DataFrame, mode: Mode, note_column: str = ""
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Each row's existing contact (by ID, then any email, then any phone), its action; rows of the same contact
    combined; rows that conflict (another contact's email or phone) rejected."""
    keys = good.select(
        LINE,
        *[
            pl.col(k) if k in good.columns else pl.lit(None, pl.String).alias(k)
            for k in ("contact_id", "email", "phone")
        ],
    )
    with scratch(con, keys) as import_keys:
        matched = query_frame(
            con,
            f"""
            SELECT k.{LINE}, coalesce(by_id.contact_id, by_email.contact_id, by_phone.contact_id) AS {TARGET}
            FROM {import_keys} k
            LEFT JOIN contacts by_id ON by_id.contact_id = k.contact_id
            LEFT JOIN {_first_holder("email", import_keys)} by_email ON by_email.value = k.email
            LEFT JOIN {_first_holder("phone", import_keys)} by_phone ON by_phone.value = k.phone""",
        )
    # Rows that match no contact are the same new contact when they share an ID, else an email, else a phone.
    # A row with only a name is a contact of its own: two rows with one name may be two people (duplicate
    # detection finds them later).
    staged = good.join(matched, on=LINE, how="left").with_columns(
        __key=pl.coalesce(
            pl.col(TARGET),
            pl.lit("id:") + _maybe(good, "contact_id"),
            pl.lit("email:") + _maybe(good, "email"),
            pl.lit("phone:") + _maybe(good, "phone"),
            pl.lit("line:") + pl.col(LINE).cast(pl.String),
        )
    )
    staged, combined = _combine(staged.sort(LINE), note_column)
    # A second contact with an email another row already gives keeps its other values, not the email: two
    # people may share a phone, but an email identifies one contact.
    errors, taken = _empty_errors(), empty_warnings()
    if "email" in staged.columns:
        staged = staged.with_columns(pl.col(LINE).min().over("email").alias("__first"))
        dup = pl.col("email").is_not_null() & (pl.col("__first") != pl.col(LINE))
        taken = warning_rows(
            staged, dup, "email", pl.col("email"), pl.format("the same email as line {}", pl.col("__first")), "left out"
        )
        staged = staged.with_columns(pl.when(dup).then(None).otherwise(pl.col("email")).alias("email")).drop("__first")
        lost = ~_has_identity(staged)
        errors = error_rows(staged, lost, "email", pl.lit("its email is another row's and nothing else identifies it"))
        staged = staged.filter(~lost)
        taken = taken.join(errors.select("line"), on="line", how="anti")
    warnings = pl.concat([combined, taken])
    return staged.with_columns(_action(mode).alias(ACTION)).drop("__key"), errors, warnings


def _action(mode: Mode) -> pl.Expr:
    """What the mode does with a row that matched an existing contact (TARGET) or none."""
    found = pl.col(TARGET).is_not_null()
    return {
        "create": pl.when(found).then(pl.lit("skip")).otherwise(pl.lit("create")),
        "update": pl.when(found).then(pl.lit("update")).otherwise(pl.lit("skip")),
        "upsert": pl.when(found).then(pl.lit("update")).otherwise(pl.lit("create")),
    }[mode]


def _combine(staged: pl.DataFrame, note_column: str = "") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of one contact folded into its first row: later rows fill its blanks and add their emails and phones;
    their different notes are joined by a blank line (while the whole stays within a note's limit).

    Only the rows whose key repeats are grouped, so a file of distinct contacts pays one duplicate test.
    """
    repeated = pl.col("__key").is_duplicated()
    many = staged.filter(repeated)
    if many.height == 0:
        return staged, empty_warnings()
    many = many.with_columns(pl.col(LINE).min().over("__key").alias("__first"))
    first = pl.col("__first")
    warnings = many.filter(pl.col(LINE) != first).select(
        pl.col(LINE).alias("line"),
        pl.lit("").alias("column"),
        pl.lit("").alias("value"),
        pl.format("the same contact as line {}", first).alias("reason"),
        pl.format("combined into line {}", first).alias("action"),
    )
    many = many.drop("__first")
    lists = [c for c in (MORE_EMAILS, MORE_PHONES, "tags") if c in many.columns]
    aggregations = [pl.col(c).drop_nulls().first() for c in many.columns if c not in (*lists, NOTE) and c != "__key"]
    if NOTE in many.columns:  # each row's note kept, the different ones joined by a blank line
        aggregations.append(pl.col(NOTE).drop_nulls().unique(maintain_order=True).alias("__notes"))
    for column in lists:
        aggregations.append(
            pl.col(column).list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().unique(maintain_order=True)
        )
    for kind, more in (("email", MORE_EMAILS), ("phone", MORE_PHONES)):
        if kind in many.columns and more in many.columns:
            aggregations.append(pl.col(kind).drop_nulls().unique(maintain_order=True).alias(f"__all {kind}"))
    folded = many.group_by("__key", maintain_order=True).agg(aggregations)
    for kind, more in (("email", MORE_EMAILS), ("phone", MORE_PHONES)):
        if f"__all {kind}" in folded.columns:
            later = (
                pl.col(f"__all {kind}")
                .list.slice(1)
                .list.eval(pl.struct(pl.element().alias("value"), pl.lit(None, pl.String).alias("label")))
            )
            folded = folded.with_columns(
                pl.concat_list(later, pl.col(more)).list.unique(maintain_order=True).alias(more)
            ).drop(f"__all {kind}")
    if "__notes" in folded.columns:
        folded, too_long = _joined_notes(folded, note_column)
        warnings = pl.concat([warnings, too_long]).sort("line", maintain_order=True)
    combined = pl.concat([staged.filter(~repeated), folded.select(staged.columns)], how="vertical_relaxed")
    return combined.sort(LINE), warnings


def _joined_notes(folded: pl.DataFrame, note_column: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The combined rows' notes joined by a blank line; when that is over a note's limit, the first row's note is
    kept and the others are warned about as left out."""
    joined = pl.col("__notes").list.join("\n\n")
    too_long = joined.str.len_chars() > MAX_NOTE_LENGTH
    warnings = warning_rows(
        folded,
        too_long,
        note_column,
        pl.col("__notes").list.slice(1).list.join("\n\n"),
        pl.format(
            f"the notes of the combined rows would make one of {{}} characters; the limit is {MAX_NOTE_LENGTH:,}",
            joined.str.len_chars(),
        ),
        "left out (the first row's note is kept)",
    )
    note = pl.when(too_long).then(pl.col("__notes").list.first()).when(joined != "").then(joined)
    return folded.with_columns(note.alias(NOTE)).drop("__notes"), warnings


def _maybe(values: pl.DataFrame, key: str) -> pl.Expr:
    return pl.col(key) if key in values.columns else pl.lit(None, pl.String)
