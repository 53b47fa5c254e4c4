"""An import's field columns: mapped cells joined or split, then every column checked by its field rule.

The rules are core.contacts.rules, the ones a form and a channel event use, each applied to a whole
column at once (phones and odd emails go to their parsers once per distinct value).
"""

import duckdb
import polars as pl

from core.contacts.models import CustomField
from core.contacts.rules import FieldRule, custom_rule
from core.contacts.validation import system_rule
from core.importer.mapping import new_field_key
from core.importer.reading import LINE

# Several columns mapped to one of these hold several values, split again later; other fields read as one text
# ("street number", "street", "unit" mapped to address make one address).
_LISTS = ("email", "phone", "custom.other_emails", "custom.other_phones", "tags")


def error_rows(values: pl.DataFrame, bad: pl.Expr, column: str, reason: pl.Expr) -> pl.DataFrame:
    """The rows where `bad` holds, as (line, column, reason)."""
    return values.filter(bad).select(
        pl.col(LINE).alias("line"), pl.lit(column).alias("column"), reason.cast(pl.String).alias("reason")
    )


def clean_fields(
    con: duckdb.DuckDBPyConnection, source: pl.DataFrame, mapping: dict[str, str], fields: dict[str, CustomField]
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Field columns from the mapped cells, and one error frame per checked column."""
    by_target: dict[str, list[str]] = {}
    for column, target in mapping.items():
        key = f"custom.{new_field_key(target[4:])}" if target.startswith("new:") else target
        key = {"other_emails": "custom.other_emails", "other_phones": "custom.other_phones"}.get(key, key)
        by_target.setdefault(key, []).append(column)
    values = source.select(LINE, *[_joined(cols, target).alias(target) for target, cols in by_target.items()])
    values = _split_full_name(values)
    values = _split_several(values, "email", "custom.other_emails", ":::|;")
    values = _split_several(values, "phone", "custom.other_phones", ":::")
    if "phone" in values.columns:
        values = values.with_columns(phone_raw=pl.col("phone"))
    label = {t: cols[0] for t, cols in by_target.items()}
    if "full_name" in label:
        label |= {"first_name": label["full_name"], "last_name": label["full_name"]}
    rules = _rules(con, [c for c in values.columns if c not in (LINE, "tags", "phone_raw")], fields)
    # Each rule once per column, giving a struct of value and reason; all columns in one parallel pass.
    checked = values.with_columns(rule.check(pl.col(c)).alias(f"__checked {c}") for c, rule in rules.items())
    errors = [error_rows(checked, _reason(c).is_not_null(), label.get(c, c), _reason(c)) for c in rules]
    values = checked.with_columns(pl.col(f"__checked {c}").struct.field("value").alias(c) for c in rules)
    values = values.drop(f"__checked {c}" for c in rules)
    return (values.with_columns(_tags()) if "tags" in values.columns else values), errors


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


def _tags() -> pl.Expr:
    """Commas, or Google's ':::' between groups; '* ' marks Google's own group, and Mailchimp quotes tags."""
    return (
        pl.col("tags")
        .str.replace_all(":::", ",")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().str.strip_chars('"').str.strip_chars("* ").filter(pl.element() != ""))
        .list.unique(maintain_order=True)
        .fill_null([])
        .alias("tags")
    )
