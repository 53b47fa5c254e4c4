"""An import's field columns: mapped cells joined or split, then every column checked by its field rule.

The rules are core.contacts.rules, the ones a form and a channel event use, each applied to a whole
column at once (phones and odd emails go to their parsers once per distinct value). A value its rule
refuses costs that value, not the row: it becomes a warning (line, column, value, reason, action).
Emails and phones are channels: every email (or phone) cell of a row, split at ':::' and the like, is
checked; the first valid one is the primary, the others are kept as the contact's additional values.
"""

import duckdb
import polars as pl

from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.contacts.models import CustomField
from core.contacts.rules import FieldRule, custom_rule
from core.contacts.validation import default_country, system_rule
from core.importer.dates import DateOrder, default_order, normalise_dates
from core.importer.mapping import COMBINABLE, MAX_NOTE_LENGTH, NOTE, new_field_key, repeats_of
from core.importer.names import split_full_names
from core.importer.reading import LINE

MORE_EMAILS, MORE_PHONES = "__more_emails", "__more_phones"
CHANNEL_TARGETS = {"email": ("email", "other_emails"), "phone": ("phone", "other_phones")}
_SEPARATORS = {"email": r"\s*(?::::|;|,)\s*", "phone": r"\s*(?::::|,)\s*"}
_LABEL_WORDS = (
    ("fax", ("fax",)),
    ("mobile", ("mobile", "cell", "handy")),
    ("work", ("work", "business", "office", "company", "job")),
    ("home", ("home", "private", "personal")),
    ("other", ("other", "secondary", "alternate")),
)
WARNING_SCHEMA = {"line": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "action": pl.String}
CHANNEL_SCHEMA = pl.List(pl.Struct({"value": pl.String, "label": pl.String}))


def error_rows(values: pl.DataFrame, bad: pl.Expr, column: str, reason: pl.Expr) -> pl.DataFrame:
    """The rows where `bad` holds, as (line, column, reason)."""
    return values.filter(bad).select(
        pl.col(LINE).alias("line"), pl.lit(column).alias("column"), reason.cast(pl.String).alias("reason")
    )


def warning_rows(
    values: pl.DataFrame, bad: pl.Expr, column: str, cell: pl.Expr, reason: pl.Expr, action: str
) -> pl.DataFrame:
    """The rows where `bad` holds, as warnings (line, column, value, reason, action)."""
    return values.filter(bad).select(
        pl.col(LINE).alias("line"),
        pl.lit(column).alias("column"),
        cell.cast(pl.String).alias("value"),
        reason.cast(pl.String).alias("reason"),
        pl.lit(action).alias("action"),
    )


def empty_warnings() -> pl.DataFrame:
    """A warning frame with no rows."""
    return pl.DataFrame(schema=WARNING_SCHEMA)


def channel_label(header: str) -> str | None:
    """The label a column's name gives its emails or phones ('Business Phone' -> 'work'), or None."""
    lowered = header.lower()
    return next((label for label, words in _LABEL_WORDS if any(word in lowered for word in words)), None)


def clean_fields(
    con: duckdb.DuckDBPyConnection,
    source: pl.DataFrame,
    mapping: dict[str, str],
    fields: dict[str, CustomField],
    date_orders: dict[str, DateOrder] | None = None,
) -> tuple[pl.DataFrame, list[pl.DataFrame], dict[str, DateOrder]]:
    """Field columns from the mapped cells, warning frames (values left out) and each date column's order."""
    by_target: dict[str, list[str]] = {}
    for column, target in mapping.items():
        key = f"custom.{new_field_key(target[4:])}" if target.startswith("new:") else target
        by_target.setdefault(key, []).append(column)
    by_target.pop("channel_type", None)  # read beside their value columns (_label_column), not a field
    entered = by_target.pop("phone_raw", [])  # the phone as entered, beside the phone (our own export)
    channel_columns = {
        kind: [c for t in targets for c in by_target.pop(t, [])] for kind, targets in CHANNEL_TARGETS.items()
    }
    repeated = {t: cols for t, cols in by_target.items() if t not in COMBINABLE and _all_repeats(cols)}
    values = source.select(
        LINE,
        *[
            (_first_filled(cols) if target in repeated else _joined(cols, target)).alias(target)
            for target, cols in by_target.items()
        ],
    )
    values = _middle_names(_birthday_from_parts(split_full_names(_company_rows(values))))
    if "owner_id" in values.columns:
        values = values.with_columns(_owner_ids(con, pl.col("owner_id")).alias("owner_id"))
    label = {t: cols[0] for t, cols in by_target.items()}
    if "full_name" in label:
        label |= {"first_name": label["full_name"], "last_name": label["full_name"]}
    warnings: list[pl.DataFrame] = [_repeat_warnings(source, cols) for cols in repeated.values()]
    fallback = default_order(default_country(con))
    chosen = {target: (date_orders or {})[column] for target, column in label.items() if column in (date_orders or {})}
    dated = _date_columns(values.columns, fields)
    values = values.with_columns(pl.col(c).alias(f"__written {c}") for c in dated)  # warnings quote the file
    timed = tuple(c for c in dated if c.startswith("custom.") and fields[c.removeprefix("custom.")].type == "datetime")
    values, orders = normalise_dates(values, dated, chosen, fallback, timed)
    for kind, columns in channel_columns.items():
        if columns:
            channels, channel_warnings = _channels(source, columns, kind, system_rule(con, kind))
            values = values.join(channels, on=LINE, how="left", maintain_order="left")
            warnings.append(channel_warnings)
    if entered and "phone" in values.columns:
        # Only beside a phone that was read: a 'Phone as entered' alone is no phone.
        given = source.select(_joined(entered, "phone_raw").alias("__entered"))["__entered"]
        values = (
            values.with_columns(given)
            .with_columns(
                pl.when(pl.col("phone").is_not_null())
                .then(pl.coalesce("__entered", "phone_raw"))
                .otherwise(pl.col("phone_raw"))
                .alias("phone_raw")
            )
            .drop("__entered")
        )
    if NOTE in values.columns:
        values, too_long = _notes(values, label[NOTE])
        warnings.append(too_long)
    skip = (LINE, "tags", "phone_raw", "email", "phone", MORE_EMAILS, MORE_PHONES, NOTE)
    rules = _rules(con, [c for c in values.columns if c not in skip and not c.startswith("__written ")], fields)
    # Each rule once per column, giving a struct of value and reason; all columns in one parallel pass.
    checked = values.with_columns(rule.check(pl.col(c)).alias(f"__checked {c}") for c, rule in rules.items())
    warnings += [
        warning_rows(
            checked, _reason(c).is_not_null(), label.get(c, c), _written(c, dated), _quoted(c, dated), "left blank"
        )
        for c in rules
    ]
    values = checked.with_columns(pl.col(f"__checked {c}").struct.field("value").alias(c) for c in rules)
    values = values.drop(*[f"__checked {c}" for c in rules], *[f"__written {c}" for c in dated])
    values = values.with_columns(_tags()) if "tags" in values.columns else values
    return values, warnings, {label.get(c, c): order for c, order in orders.items()}


def _notes(values: pl.DataFrame, column: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A note's text as add_note takes it (the cell is trimmed already, blank is none): one longer than
    MAX_NOTE_LENGTH characters is warned about and left out, the row imported without it."""
    length = pl.col(NOTE).str.len_chars()
    too_long = (length > MAX_NOTE_LENGTH).fill_null(False)
    reason = pl.format(f"the note is {{}} characters; the limit is {MAX_NOTE_LENGTH:,}", length)
    warnings = warning_rows(values, too_long, column, pl.col(NOTE), reason, "left out")
    return values.with_columns(pl.when(too_long).then(None).otherwise(pl.col(NOTE)).alias(NOTE)), warnings


def _all_repeats(columns: list[str]) -> bool:
    """Whether the columns after the first repeat its header ('Last Name', 'Last Name (2)')."""
    return len(columns) > 1 and all(repeats_of(c, columns) == columns[0] for c in columns[1:])


def _filled(column: str) -> pl.Expr:
    cell = pl.col(column).str.strip_chars()
    return pl.when(cell != "").then(pl.col(column))


def _first_filled(columns: list[str]) -> pl.Expr:
    """The first non-blank cell of a repeated header's columns."""
    return pl.coalesce([_filled(c) for c in columns])


def _repeat_warnings(source: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """A repeated header's later cells that differ from the value kept (blank or equal ones say nothing)."""
    kept = _first_filled(columns)
    return pl.concat(
        [
            warning_rows(
                source,
                _filled(c).is_not_null() & (_filled(c).str.strip_chars() != kept.str.strip_chars()),
                c,
                pl.col(c),
                pl.lit(f"'{columns[0]}' is repeated; the first value in the row is kept"),
                "left out",
            )
            for c in columns
        ]
    ).sort("line", maintain_order=True)


def _middle_names(values: pl.DataFrame) -> pl.DataFrame:
    """A middle name (Outlook's Middle Name, Google's Additional Name) joined to the first name: 'Ada Mary'."""
    if "middle_name" not in values.columns:
        return values
    parts = [pl.col(c).str.strip_chars() for c in ("first_name", "middle_name") if c in values.columns]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return values.with_columns(pl.when(joined != "").then(joined).alias("first_name")).drop("middle_name")


_COMPANY_WORDS = ("true", "yes", "1", "y", "x", "company", "organization", "organisation", "business", "account")


def _company_rows(values: pl.DataFrame) -> pl.DataFrame:
    """A row its exporter marks as a company (Odoo's 'Is a Company', a 'Contact type' of Company): its name is
    the company's, not a person's first and last name."""
    if "is_company" not in values.columns:
        return values
    marked = pl.col("is_company").str.strip_chars().str.to_lowercase().is_in(_COMPANY_WORDS).fill_null(False)
    names = [c for c in ("full_name", "first_name", "last_name") if c in values.columns]
    if not names:
        return values.drop("is_company")
    name = pl.concat_str([pl.col(c) for c in names], separator=" ", ignore_nulls=True)
    company = pl.coalesce(pl.col("company"), name) if "company" in values.columns else name
    return values.with_columns(
        pl.when(marked)
        .then(company)
        .otherwise(pl.col("company") if "company" in values.columns else None)
        .alias("company"),
        *[pl.when(marked).then(None).otherwise(pl.col(c)).alias(c) for c in names],
    ).drop("is_company")


def _owner_ids(con: duckdb.DuckDBPyConnection, cells: pl.Expr) -> pl.Expr:
    """Owners written by name (as an export writes them) read as their IDs; IDs and unknown names stay."""
    from core.workspace import owner_names

    by_name = {name.strip().lower(): owner_id for owner_id, name in owner_names(con).items()}
    lowered = cells.str.strip_chars().str.to_lowercase()
    return pl.coalesce(lowered.replace_strict(by_name, default=None, return_dtype=pl.String), cells)


def _birthday_from_parts(values: pl.DataFrame) -> pl.DataFrame:
    """Year, month and day columns (Thunderbird's) made one birthday; an incomplete date stays as written, so
    the date rule reports it."""
    parts = [c for c in ("birth_year", "birth_month", "birth_day") if c in values.columns]
    if not parts:
        return values
    column = {
        c: pl.col(c) if c in values.columns else pl.lit(None, pl.String)
        for c in ("birth_year", "birth_month", "birth_day")
    }
    written = pl.concat_str(
        [column["birth_year"], column["birth_month"].str.zfill(2), column["birth_day"].str.zfill(2)],
        separator="-",
        ignore_nulls=True,
    )
    any_part = pl.any_horizontal(pl.col(c).is_not_null() for c in parts)
    birthday: pl.Expr = pl.when(any_part).then(written)
    if "birthday" in values.columns:
        birthday = pl.coalesce(pl.col("birthday"), birthday)
    return values.with_columns(birthday.alias("birthday")).drop(parts)


def _date_columns(columns: list[str], fields: dict[str, CustomField]) -> list[str]:
    dated = []
    for column in columns:
        if column.startswith("custom."):
            field = fields.get(column.removeprefix("custom."))
            if field is not None and field.type in ("date", "datetime"):
                dated.append(column)
        elif column in SYSTEM_FIELD_BY_KEY and SYSTEM_FIELD_BY_KEY[column].type == "date":
            dated.append(column)
    return dated


def _written(column: str, dated: list[str]) -> pl.Expr:
    return pl.col(f"__written {column}") if column in dated else pl.col(column)


def _quoted(column: str, dated: list[str]) -> pl.Expr:
    """The reason a value is refused, quoting it as the file wrote it (a date's ISO rewrite is not what was typed)."""
    reason = _reason(column)
    if column not in dated:
        return reason
    rewritten, written = pl.lit("'") + pl.col(column) + pl.lit("'"), pl.col(f"__written {column}")
    rest = reason.str.slice(pl.col(column).str.len_chars() + 2)
    return pl.when(reason.str.starts_with(rewritten)).then(pl.lit("'") + written + pl.lit("'") + rest).otherwise(reason)


def _reason(column: str) -> pl.Expr:
    return pl.col(f"__checked {column}").struct.field("reason")


def _rules(con: duckdb.DuckDBPyConnection, columns: list[str], fields: dict[str, CustomField]) -> dict[str, FieldRule]:
    return {
        c: custom_rule(fields[c.removeprefix("custom.")]) if c.startswith("custom.") else system_rule(con, c)
        for c in columns
    }


def _joined(columns: list[str], target: str) -> pl.Expr:
    """One column's cells, or several columns' non-blank cells joined."""
    if len(columns) == 1:
        return pl.col(columns[0])
    separator = ", " if target in ("tags", "address") else " "
    joined = pl.concat_str([pl.col(c).str.strip_chars() for c in columns], separator=separator, ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def _channels(
    source: pl.DataFrame, columns: list[str], kind: str, rule: FieldRule
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per line: the primary email or phone, the additional ones (value, label), and warnings for bad ones.

    Every cell of the kind's columns is split into its values, all of them checked by the rule at once; the
    first valid value of a line (columns in file order, values in cell order) is the primary.
    """
    more = MORE_EMAILS if kind == "email" else MORE_PHONES
    parts = []
    for position, column in enumerate(columns):
        header_label = pl.lit(channel_label(column), pl.String)
        beside = _label_column(column, source.columns)
        typed = pl.col(beside).str.strip_chars() if beside else pl.lit(None, pl.String)
        parts.append(
            source.select(
                LINE,
                pl.lit(position, pl.Int32).alias("__column_position"),
                pl.lit(column).alias("column"),
                pl.coalesce(_label_of(typed), header_label).alias("label"),
                # Google marks the primary value's type with '* ' ('* Home'): it comes first.
                typed.str.starts_with("*").fill_null(False).not_().alias("__unstarred"),
                pl.col(column).str.replace_all(_SEPARATORS[kind], "\x1f").str.split("\x1f").alias("raw"),
            ).filter(pl.col("raw").is_not_null())
        )
    long = (
        pl.concat(parts)
        .explode("raw")
        .with_columns(pl.col("raw").str.strip_chars())
        .filter(pl.col("raw").is_not_null() & (pl.col("raw") != ""))
        .with_row_index("__order")
    )
    long = _bracketed_labels(long)
    checked = rule.check_series(long["raw"])
    long = long.with_columns(value=checked["value"], reason=checked["reason"])
    valid = (
        long.filter(pl.col("value").is_not_null())
        .sort(LINE, "__unstarred", "__column_position", "__order")
        .unique(subset=[LINE, "value"], keep="first", maintain_order=True)
    )
    grouped = valid.group_by(LINE, maintain_order=True).agg(
        pl.col("value").first().alias(kind),
        pl.col("raw").first().alias("__raw"),
        pl.struct("value", "label").slice(1).alias(more),
    )
    bad = (
        long.filter(pl.col("reason").is_not_null())
        .join(grouped.select(LINE), on=LINE, how="anti")
        .sort(LINE, "__order")
    )
    # A line whose phones are all refused keeps the first as written (Phone as entered): nothing typed is lost.
    kept_raw = (
        bad.unique(subset=[LINE], keep="first", maintain_order=True).select(LINE, "__order")
        if kind == "phone"
        else None
    )
    refused = long.filter(pl.col("reason").is_not_null()).with_columns(action=pl.lit("left out"))
    if kept_raw is not None:
        refused = refused.join(
            kept_raw.with_columns(pl.lit(True).alias("__kept")), on=[LINE, "__order"], how="left"
        ).with_columns(
            action=pl.when(pl.col("__kept")).then(pl.lit("kept in Phone as entered")).otherwise(pl.col("action"))
        )
    warnings = refused.sort(LINE, "__order").select(
        pl.col(LINE).alias("line"), "column", pl.col("__written").alias("value"), "reason", "action"
    )
    result = grouped.drop("__raw") if kind == "email" else grouped.rename({"__raw": "phone_raw"})
    if kept_raw is not None:
        raw_only = kept_raw.join(long.select(LINE, "__order", "raw"), on=[LINE, "__order"]).select(
            LINE, pl.lit(None, pl.String).alias("phone"), pl.col("raw").alias("phone_raw")
        )
        result = pl.concat([result, raw_only], how="diagonal_relaxed")
    return result, warnings


# 'ada@work.example (work)' or '+44 20 7946 0958 (home)': a label in brackets after the value, as the export and
# the details page write them (a bracket with digits is part of a phone: '(555) 010-2030').
_BRACKETED = r"^(.*?)\s*\(([^()\d]+)\)$"


def _bracketed_labels(long: pl.DataFrame) -> pl.DataFrame:
    """Each value's label written in brackets after it taken off the value; it wins over the column's label.
    The value as written stays in __written for the warnings."""
    bracketed = pl.col("raw").str.ends_with(")")
    if not long.select(bracketed.any()).item():
        return long.with_columns(pl.col("raw").alias("__written"))  # most files: no value needs the pattern
    parts = pl.col("raw").str.extract_groups(_BRACKETED).struct
    return long.with_columns(
        pl.col("raw").alias("__written"),
        pl.when(bracketed).then(pl.coalesce(parts.field("1"), pl.col("raw"))).otherwise(pl.col("raw")).alias("raw"),
        pl.when(bracketed)
        .then(pl.coalesce(parts.field("2").str.strip_chars(), pl.col("label")))
        .otherwise(pl.col("label"))
        .alias("label"),
    )


def _label_column(column: str, columns: list[str]) -> str | None:
    """The column beside a value column that holds each value's type (Google's 'E-mail 1 - Type' or
    'Phone 1 - Label' beside '... - Value'), if the file has it."""
    if not column.lower().endswith(" - value"):
        return None
    stem = column[: -len("value")]
    return next((c for c in (stem + "Label", stem + "Type", stem + "label", stem + "type") if c in columns), None)


def _label_of(typed: pl.Expr) -> pl.Expr:
    """The label a written type gives a value ('* Home' -> 'home', 'Work Fax' -> 'fax', 'Mobile' -> 'mobile')."""
    lowered = typed.str.to_lowercase()
    label: pl.Expr = pl.lit(None, pl.String)
    for name, words in reversed(_LABEL_WORDS):
        label = pl.when(lowered.str.contains("|".join(words))).then(pl.lit(name)).otherwise(label)
    return label


def _tags() -> pl.Expr:
    """Commas, Google's ':::' or Mautic's '|' between tags; '* ' marks Google's own group ('* myContacts' is
    dropped), and Mailchimp quotes tags."""
    return (
        pl.col("tags")
        .str.replace_all(":::", ",")
        .str.replace_all("|", ",", literal=True)  # Mautic writes 'vip|newsletter'
        .str.split(",")
        # Google's '* myContacts' (every contact is in it) says nothing; its other starred groups keep their name.
        .list.eval(pl.element().filter(~pl.element().str.contains(r"(?i)^\s*\*\s*my\s*contacts\s*$")))
        .list.eval(pl.element().str.strip_chars().str.strip_chars('"').str.strip_chars("* ").filter(pl.element() != ""))
        .list.unique(maintain_order=True)
        .fill_null([])
        .alias("tags")
    )
