"""The dry run: every row cleaned, validated and matched over the whole batch, nothing written.

Each check is a Polars expression over all rows; phone numbers are parsed once per distinct value
(core.contacts.normalize.normalize_phones) and emails the strict pattern cannot settle go to the validator once
per distinct value. Matching against the database is one DuckDB join.
"""

from dataclasses import dataclass, field
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, Field

from core.contacts.fields import GENDERS, SUBSCRIPTIONS, SYSTEM_FIELD_BY_KEY
from core.contacts.models import CustomField
from core.contacts.normalize import normalize_email, normalize_phones
from core.contacts.validation import MAX_CONTACT_ID_LENGTH, MAX_TEXT_LENGTH, custom_fields, default_country
from core.db import frame as query_frame
from core.errors import ContactsError
from core.importer.mapping import check_mapping, new_field_key
from core.importer.reading import CELLS, LINE, RawTable
from core.workspace import lead_stages, owners

Mode = Literal["create", "update", "upsert"]
Rule = Literal["overwrite", "fill", "append"]
ACTION, TARGET = "__action", "__target_id"
# Strict enough that the validator would accept and return it unchanged (lower-cased); the rest go to it.
_EMAIL_FAST = r"^[a-z0-9]+(?:[._+\-][a-z0-9]+)*@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_SPECIAL_DOMAINS = r"\.(?:arpa|invalid|local|localhost|onion|test)$"
_NEUTRALISED = r"^'([=+\-@\t\r])"
_TRUE, _FALSE = ("true", "yes", "1", "y", "x", "checked"), ("false", "no", "0", "n", "unchecked")


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
    values, errors = _clean(con, source, mapping, fields, len(table.headers))
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
    too_long = [
        source.filter(pl.col(h).str.len_chars() > MAX_TEXT_LENGTH).select(
            pl.col(LINE).alias("line"),
            pl.lit(h).alias("column"),
            pl.format(
                "the value is {} characters; the limit is {}", pl.col(h).str.len_chars(), pl.lit(MAX_TEXT_LENGTH)
            ).alias("reason"),
        )
        for h in headers
    ]
    return [wrong, *too_long]


def _has_identity(values: pl.DataFrame) -> pl.Expr:
    present = [pl.col(k).is_not_null() for k in ("contact_id", "email", "phone") if k in values.columns]
    return pl.any_horizontal(present) if present else pl.lit(False)


def _error(values: pl.DataFrame, bad: pl.Expr, column: str, reason: pl.Expr) -> pl.DataFrame:
    return values.filter(bad).select(
        pl.col(LINE).alias("line"), pl.lit(column).alias("column"), reason.cast(pl.String).alias("reason")
    )


def _clean(
    con: duckdb.DuckDBPyConnection,
    source: pl.DataFrame,
    mapping: dict[str, str],
    fields: dict[str, CustomField],
    width: int,
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Field columns from the mapped cells, and one error frame per check."""
    by_target: dict[str, list[str]] = {}
    for column, target in mapping.items():
        key = f"custom.{new_field_key(target[4:])}" if target.startswith("new:") else target
        key = {"other_emails": "custom.other_emails", "other_phones": "custom.other_phones"}.get(key, key)
        by_target.setdefault(key, []).append(column)
    values = source.select(LINE, *[_joined(cols, target).alias(target) for target, cols in by_target.items()])
    values = _split_full_name(values)
    values = _split_several(values, "email", "custom.other_emails", ":::|;")
    values = _split_several(values, "phone", "custom.other_phones", ":::")
    errors: list[pl.DataFrame] = []
    label = {t: cols[0] for t, cols in by_target.items()} | {"first_name": by_target.get("full_name", [""])[0]}
    values, found = _clean_email(values, label.get("email", ""))
    errors += found
    values, found = _clean_phone(values, label.get("phone", ""), default_country(con))
    errors += found
    values, found = _clean_choices(con, values, label)
    errors += found
    for target in [c for c in values.columns if c.startswith("custom.")]:
        values, found = _clean_custom(values, fields[target.removeprefix("custom.")], label.get(target, target))
        errors += found
    return values, errors


# Several columns mapped to one of these hold several values, split again later; other fields read as one text
# ("street number", "street", "unit" mapped to address make one address).
_LISTS = ("email", "phone", "custom.other_emails", "custom.other_phones", "tags")


def _joined(columns: list[str], target: str) -> pl.Expr:
    """One column's cells, or several columns' non-blank cells joined."""
    if len(columns) == 1:
        return pl.col(columns[0])
    separator = " ::: " if target in _LISTS else " "
    joined = pl.concat_str([pl.col(c).str.strip_chars() for c in columns], separator=separator, ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def _split_full_name(values: pl.DataFrame) -> pl.DataFrame:
    """'Ada King Lovelace' -> first name 'Ada', last name 'King Lovelace' when the file has one name column."""
    if "full_name" not in values.columns:
        return values
    parts = pl.col("full_name").str.strip_chars().str.splitn(" ", 2).struct
    return values.with_columns(
        first_name=parts.field("field_0"), last_name=parts.field("field_1").str.strip_chars()
    ).drop("full_name")


def _split_several(values: pl.DataFrame, key: str, extra: str, separator: str) -> pl.DataFrame:
    """The first of several values in one cell is the field; the others join the 'other' field."""
    if key not in values.columns:
        return values
    items = (
        pl.col(key)
        .str.replace_all(separator, "\x1f")
        .str.split("\x1f")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    )
    rest = items.list.slice(1).list.join(", ")
    others = [pl.col(extra).str.replace_all(":::", ",")] if extra in values.columns else []
    merged = pl.concat_str([pl.when(rest != "").then(rest), *others], separator=", ", ignore_nulls=True)
    return values.with_columns(items.list.first().alias(key), pl.when(merged != "").then(merged).alias(extra))


def _clean_email(values: pl.DataFrame, column: str) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    if "email" not in values.columns:
        return values, []
    lowered = values["email"].str.to_lowercase()
    fast = (
        lowered.str.contains(_EMAIL_FAST)
        & ~lowered.str.contains(_SPECIAL_DOMAINS)
        & (lowered.str.split("@").list.first().str.len_bytes() <= 64)
        & (lowered.str.len_bytes() <= 254)
    )
    slow = values["email"].filter(~fast.fill_null(True) & values["email"].is_not_null()).unique()
    checked = [_check_email(value) for value in slow.to_list()]  # once per distinct odd value
    lookup = pl.DataFrame(
        {"email": slow, "__email_ok": [c[0] for c in checked], "__email_error": [c[1] for c in checked]},
        schema={"email": pl.String, "__email_ok": pl.String, "__email_error": pl.String},
    )
    joined = values.with_columns(__fast=fast, __lower=lowered).join(
        lookup, on="email", how="left", maintain_order="left"
    )
    errors = _error(joined, pl.col("__email_error").is_not_null(), column, pl.col("__email_error"))
    cleaned = joined.with_columns(
        email=pl.when(pl.col("__fast")).then(pl.col("__lower")).otherwise(pl.col("__email_ok"))
    ).drop("__fast", "__lower", "__email_ok", "__email_error")
    return cleaned, [errors]


def _check_email(value: str) -> tuple[str | None, str | None]:
    try:
        return normalize_email(value), None
    except ContactsError as error:
        return None, error.message


def _clean_phone(values: pl.DataFrame, column: str, country: str) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    if "phone" not in values.columns:
        return values, []
    parsed = normalize_phones(values["phone"], country)
    joined = values.with_columns(phone_raw=pl.col("phone"), phone=parsed["phone"], __phone_error=parsed["phone_error"])
    errors = _error(joined, pl.col("__phone_error").is_not_null(), column, pl.col("__phone_error"))
    return joined.drop("__phone_error"), [errors]


def _clean_choices(
    con: duckdb.DuckDBPyConnection, values: pl.DataFrame, label: dict[str, str]
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Every system field with a fixed form: IDs, stages, owners, subscriptions, gender, tags, dates, text."""
    errors, updates = [], []
    cols = set(values.columns)
    if "contact_id" in cols:
        bad = pl.col("contact_id").str.contains(r"\s") | (pl.col("contact_id").str.len_chars() > MAX_CONTACT_ID_LENGTH)
        errors.append(
            _error(
                values,
                bad,
                label["contact_id"],
                pl.lit(f"a contact ID is 1 to {MAX_CONTACT_ID_LENGTH} characters without spaces"),
            )
        )
    for key, allowed in (("lead_stage", lead_stages(con)), ("owner_id", list(owners(con)))):
        if key in cols:
            bad = pl.col(key).is_not_null() & ~pl.col(key).is_in(allowed)
            errors.append(
                _error(
                    values,
                    bad,
                    label[key],
                    pl.format("'{}' is not a known {}", pl.col(key), pl.lit(SYSTEM_FIELD_BY_KEY[key].label.lower())),
                )
            )
    for key in ("email_subscription", "sms_subscription", "gender"):
        if key in cols:
            choices = GENDERS if key == "gender" else SUBSCRIPTIONS
            lowered = (
                pl.col(key)
                .str.to_lowercase()
                .replace(
                    {"yes": "subscribed", "true": "subscribed", "no": "unsubscribed", "false": "unsubscribed"}
                    if key != "gender"
                    else {}
                )
            )
            updates.append(lowered.alias(key))
            errors.append(
                _error(
                    values,
                    lowered.is_not_null() & ~lowered.is_in(choices),
                    label[key],
                    pl.format("'{}' is not one of: {}", pl.col(key), pl.lit(", ".join(choices))),
                )
            )
    if "birthday" in cols:
        # ISO 8601, extended (1990-04-23) or basic (19900423) as some registries export it.
        text = pl.col("birthday").str.strip_chars()
        parsed = pl.coalesce(
            text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
            pl.when(text.str.contains(r"^\d{8}$")).then(text.str.to_date("%Y%m%d", strict=False)),
        )
        updates.append(parsed.alias("birthday"))
        errors.append(
            _error(
                values,
                pl.col("birthday").is_not_null() & parsed.is_null(),
                label["birthday"],
                pl.format("'{}' is not a date like 1990-04-23", pl.col("birthday")),
            )
        )
    if "tags" in cols:
        # Commas, or Google's ':::' between groups; '* ' marks Google's own group, and Mailchimp quotes tags.
        updates.append(
            pl.col("tags")
            .str.replace_all(":::", ",")
            .str.split(",")
            .list.eval(
                pl.element().str.strip_chars().str.strip_chars('"').str.strip_chars("* ").filter(pl.element() != "")
            )
            .list.unique(maintain_order=True)
            .fill_null([])
            .alias("tags")
        )
    return values.with_columns(updates) if updates else values, errors


def _clean_custom(values: pl.DataFrame, spec: CustomField, column: str) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """A custom field's cells in their canonical text form, as validation.clean_custom_value writes them."""
    name, cell = f"custom.{spec.key}", pl.col(f"custom.{spec.key}")
    if spec.type == "number":
        number = cell.cast(pl.Float64, strict=False)
        number = pl.when(number.is_finite()).then(number)
        canonical = (
            pl.when(number == number.floor())
            .then(number.cast(pl.Int64).cast(pl.String))
            .otherwise(number.cast(pl.String))
        )
        reason = pl.format("'{}' is not a number", cell)
    elif spec.type == "checkbox":
        lowered = cell.str.to_lowercase()
        canonical = pl.when(lowered.is_in(_TRUE)).then(pl.lit("true")).when(lowered.is_in(_FALSE)).then(pl.lit("false"))
        reason = pl.format("'{}' is not true or false", cell)
    elif spec.type == "datetime":
        canonical = cell.str.to_datetime(strict=False).dt.to_string("%Y-%m-%d %H:%M:%S")
        reason = pl.format("'{}' is not a date and time like 2024-05-01 14:30", cell)
    elif spec.type == "dropdown":
        canonical = pl.when(cell.is_in(spec.options)).then(cell)
        reason = pl.format("'{}' is not one of: {}", cell, pl.lit(", ".join(spec.options)))
    else:
        return values, []
    errors = _error(values, cell.is_not_null() & canonical.is_null(), column, reason)
    return values.with_columns(canonical.alias(name)), [errors]


def _match(con: duckdb.DuckDBPyConnection, good: pl.DataFrame, mode: Mode) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each row's existing contact (by ID, then email, then phone), its action, and in-file duplicates."""
    keys = good.select(
        LINE,
        *[
            pl.col(k) if k in good.columns else pl.lit(None, pl.String).alias(k)
            for k in ("contact_id", "email", "phone")
        ],
    )
    con.register("__import_keys", keys)
    matched = query_frame(
        con,
        f"""
        SELECT k.{LINE}, coalesce(by_id.contact_id, by_email.contact_id, by_phone.contact_id) AS {TARGET}
        FROM __import_keys k
        LEFT JOIN contacts by_id ON by_id.contact_id = k.contact_id
        LEFT JOIN (SELECT email, min(contact_id) AS contact_id FROM contacts
                   WHERE email IN (SELECT email FROM __import_keys) GROUP BY email) by_email ON by_email.email = k.email
        LEFT JOIN (SELECT phone, min(contact_id) AS contact_id FROM contacts
                   WHERE phone IN (SELECT phone FROM __import_keys) GROUP BY phone) by_phone
            ON by_phone.phone = k.phone""",
    )
    con.unregister("__import_keys")
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
            _error(
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
