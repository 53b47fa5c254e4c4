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
from core.contacts.rules import TEXT
from core.contacts.validation import custom_fields
from core.db import frame as query_frame
from core.db import scratch
from core.errors import ContactsError
from core.importer.cleaning import clean_fields, error_rows
from core.importer.mapping import check_mapping, new_field_key
from core.importer.reading import CELLS, LINE, RawTable
from core.workspace import owners

Mode = Literal["create", "update", "upsert"]
Rule = Literal["overwrite", "fill", "append"]
ACTION, TARGET = "__action", "__target_id"
_NEUTRALISED = r"^'([=+\-@\t\r])"


class ImportOptions(BaseModel):
    """What the user chose: mode, column mapping, update rule per field, tags and owner for every row."""

    mode: Mode = "upsert"
    mapping: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    owner_id: str | None = None


@dataclass
class ImportPlan:
    """The dry run's outcome: staged rows with their action, and the rejected rows with reasons."""

    file_name: str
    options: ImportOptions
    staged: pl.DataFrame  # one row per accepted line: __line, __action, __target_id and field columns
    errors: pl.DataFrame  # line, column, reason: the first problem of each rejected row
    rejected_rows: pl.DataFrame  # the original cells of each rejected line, with its line and reason
    total_rows: int
    new_fields: dict[str, str] = field(default_factory=dict)  # custom key -> label, made at commit
    skip_reasons: pl.DataFrame | None = None

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
        """The JSON report: {created, updated, skipped, rejected, errors: [{line, column, reason}]}."""
        errors = self.errors if limit is None else self.errors.head(limit)
        return {**self.counts(), "errors": errors.to_dicts()}


def plan_import(con: duckdb.DuckDBPyConnection, table: RawTable, options: ImportOptions) -> ImportPlan:
    """Validate, normalise and match every row of the file; writes nothing."""
    mapping = {c: t for c, t in check_mapping(con, table.headers, options.mapping).items() if t}
    if options.owner_id and options.owner_id not in owners(con):
        raise ContactsError(f"'{options.owner_id}' is not an owner.", field="owner_id")
    new_fields = {
        new_field_key(t.removeprefix("new:")): t.removeprefix("new:").strip()
        for t in mapping.values()
        if t.startswith("new:")
    }
    for extra, label in (("other_emails", "Other emails"), ("other_phones", "Other phones")):
        if extra in mapping.values() or ("email" if extra == "other_emails" else "phone") in mapping.values():
            new_fields.setdefault(extra, label)
    known = {f.key: f for f in custom_fields(con)}
    for key in list(new_fields):
        if key in known:
            new_fields.pop(key)  # an existing field of that key takes the values
    fields = {**known, **{k: CustomField(key=k, label=v, type="text", position=0) for k, v in new_fields.items()}}
    source = table.frame.select(pl.col(LINE), pl.col(CELLS), *[_text(c) for c in table.headers])
    values, errors = clean_fields(con, source, mapping, fields)
    errors = _structural_errors(source, table.headers) + errors
    error_frame = pl.concat(errors, how="vertical") if errors else _empty_errors()
    error_frame = error_frame.unique(subset=["line"], keep="first", maintain_order=True).sort("line")
    good = values.join(error_frame.select(pl.col("line").alias(LINE)), on=LINE, how="anti")
    good = good.filter(_has_identity(good))
    no_identity = values.join(good.select(LINE), on=LINE, how="anti").join(
        error_frame.select(pl.col("line").alias(LINE)), on=LINE, how="anti"
    )
    error_frame = pl.concat(
        [
            error_frame,
            no_identity.select(
                pl.col(LINE).alias("line"),
                pl.lit("").alias("column"),
                pl.lit("A row needs at least one of contact ID, email or phone.").alias("reason"),
            ),
        ]
    )
    staged, dup_errors = _match(con, good, options.mode)
    for extra in ("other_emails", "other_phones"):
        column = f"custom.{extra}"
        if column in staged.columns and staged[column].null_count() == staged.height:
            staged = staged.drop(column)  # nothing to keep: no empty "Other emails" field is made
            new_fields.pop(extra, None)
    error_frame = pl.concat([error_frame, dup_errors]).sort("line")
    rejected = table.frame.join(error_frame.rename({"line": LINE}), on=LINE, how="inner").select(
        pl.col(LINE).alias("line"), *table.headers, "reason"
    )
    return ImportPlan(table.file_name, options, staged, error_frame, rejected, table.row_count, new_fields)


def _empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.Int64, "column": pl.String, "reason": pl.String})


def _text(column: str) -> pl.Expr:
    """A cell trimmed, blank as null, and a formula guard our own export added taken off again."""
    cleaned = pl.col(column).str.strip_chars().str.replace(_NEUTRALISED, "$1")
    return pl.when(cleaned == "").then(None).otherwise(cleaned).alias(column)


def _structural_errors(source: pl.DataFrame, headers: list[str]) -> list[pl.DataFrame]:
    """Rows with the wrong number of cells, and cells too long to be a value."""
    width = len(headers)
    wrong = source.filter(pl.col(CELLS) != width).select(
        pl.col(LINE).alias("line"),
        pl.lit("").alias("column"),
        pl.format("the row has {} cells but the header has {}", pl.col(CELLS), pl.lit(width)).alias("reason"),
    )
    checked = source.select(LINE, *[TEXT.check(pl.col(h)).struct.field("reason").alias(h) for h in headers])
    too_long = [error_rows(checked, pl.col(h).is_not_null(), h, pl.col(h)) for h in headers]
    return [wrong, *too_long]


def _has_identity(values: pl.DataFrame) -> pl.Expr:
    present = [pl.col(k).is_not_null() for k in ("contact_id", "email", "phone") if k in values.columns]
    return pl.any_horizontal(present) if present else pl.lit(False)


def _match(con: duckdb.DuckDBPyConnection, good: pl.DataFrame, mode: Mode) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each row's existing contact (by ID, then email, then phone), its action, and in-file duplicates."""
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
            LEFT JOIN (SELECT email, min(contact_id) AS contact_id FROM contacts
                       WHERE email IN (SELECT email FROM {import_keys}) GROUP BY email) by_email
                ON by_email.email = k.email
            LEFT JOIN (SELECT phone, min(contact_id) AS contact_id FROM contacts
                       WHERE phone IN (SELECT phone FROM {import_keys}) GROUP BY phone) by_phone
                ON by_phone.phone = k.phone""",
        )
    # Rows that match no contact are the same new contact when they share an ID, else an email, else a phone.
    staged = good.join(matched, on=LINE, how="left").with_columns(
        __key=pl.coalesce(
            pl.col(TARGET),
            pl.lit("id:") + _maybe(good, "contact_id"),
            pl.lit("email:") + _maybe(good, "email"),
            pl.lit("phone:") + _maybe(good, "phone"),
        )
    )
    staged = staged.sort(LINE)
    duplicates = []
    for key, what in (("__key", "the same contact"), ("email", "the same email"), ("phone", "the same phone")):
        if key not in staged.columns:
            continue
        staged = staged.with_columns(pl.col(LINE).min().over(key).alias("__first"))
        dup = pl.col(key).is_not_null() & (pl.col("__first") != pl.col(LINE))
        duplicates.append(
            error_rows(
                staged,
                dup,
                "",
                pl.format("{} as line {}; a contact is imported once", pl.lit(what.capitalize()), pl.col("__first")),
            )
        )
        staged = staged.filter(~dup).drop("__first")
    found = pl.col(TARGET).is_not_null()
    action = {
        "create": pl.when(found).then(pl.lit("skip")).otherwise(pl.lit("create")),
        "update": pl.when(found).then(pl.lit("update")).otherwise(pl.lit("skip")),
        "upsert": pl.when(found).then(pl.lit("update")).otherwise(pl.lit("create")),
    }[mode]
    return staged.with_columns(action.alias(ACTION)).drop("__key"), pl.concat(
        duplicates
    ) if duplicates else _empty_errors()


def _maybe(values: pl.DataFrame, key: str) -> pl.Expr:
    return pl.col(key) if key in values.columns else pl.lit(None, pl.String)
