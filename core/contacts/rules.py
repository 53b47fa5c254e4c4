"""Field rules, written once: how a cell becomes its stored value, and why it is refused.

A rule cleans a whole Polars column: `FieldRule.check` takes an expression over text cells and gives a
struct of `value` (the stored form; null when blank or refused) and `reason` (null when accepted), and
`FieldRule.check_series` the same as two columns for a Series. The importer checks whole columns, channel
events a batch of events, and a form's one value is a one-row column (`check_one`). A blank cell (null,
or only whitespace) is accepted as null: whether a field may be empty is the caller's concern. A rule
says a refusal two ways: `reason` for a cell of a file ("'lots' is not a number"), `message` for a form,
next to the field ("Score must be a number.").
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl

from core.contacts.fields import GENDERS, SUBSCRIPTIONS
from core.contacts.models import CustomField
from core.contacts.normalize import WHITESPACE, normalize_emails, normalize_phones, trimmed
from core.errors import ContactsError

MAX_TEXT_LENGTH = 2000
MAX_CONTACT_ID_LENGTH = 64
TRUE_WORDS = ("true", "yes", "1", "y", "x", "checked")
FALSE_WORDS = ("false", "no", "0", "n", "unchecked")
_SPACE_CLASS = "[" + re.escape(WHITESPACE) + "]"
# Control characters but tab, line feed and carriage return (C0, DEL, C1), and the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069), as regular expressions over a cell.
_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x{9F}]"
_BIDI = r"[\x{202A}-\x{202E}\x{2066}-\x{2069}]"
# ISO 8601: extended date, optionally a time (seconds and fractions optional) and a zone; dates also basic.
_TIME = r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
_DATETIME = rf"^(\d{{4}}-\d{{2}}-\d{{2}}){_TIME}$"
_BASIC_DATE = r"^\d{8}$"
_WHOLE = 2**53  # integers up to here are exact as floats, so they are written without a decimal point


def _fill(template: str, cell: pl.Expr) -> pl.Expr:
    """A reason template with '{value}' (the cell) and '{length}' (its length) as an expression."""
    parts: list[pl.Expr] = []
    for piece in re.split(r"(\{value\}|\{length\})", template):
        if piece == "{value}":
            parts.append(cell)
        elif piece == "{length}":
            parts.append(cell.str.len_chars().cast(pl.String))
        elif piece:
            parts.append(pl.lit(piece))
    return pl.concat_str(parts)


@dataclass(frozen=True)
class FieldRule:
    """One field rule: its cleaning expression (or batch function) and how a refusal reads."""

    name: str
    reason: str  # for a cell: '{value}' is the cell, '{length}' its length; '{reason}' takes the batch's own
    message: str  # for a form: '{label}' the field's label, '{value}' the value, '{reason}' the cell's reason
    clean: Callable[[pl.Expr], pl.Expr] | None = None  # trimmed cells -> stored values, null when refused
    batch: Callable[[pl.Series], pl.DataFrame] | None = None  # trimmed cells -> (value, reason), for the parsers
    dtype: Any = pl.String

    def check(self, column: pl.Expr) -> pl.Expr:
        """A struct of `value` and `reason` for every cell of the column."""
        schema = pl.Struct({"value": self.dtype, "reason": pl.String})
        return column.map_batches(lambda cells: self.check_series(cells).to_struct(), return_dtype=schema)

    def check_series(self, cells: pl.Series) -> pl.DataFrame:
        """Columns `value` and `reason` for a Series of cells."""
        # The trimmed cells are materialised once: an expression would repeat the trim in every branch.
        text = trimmed(cells)
        if self.batch is not None:
            result = self.batch(text)
            return result.rename(dict(zip(result.columns, ["value", "reason"], strict=True)))
        assert self.clean is not None
        cell = pl.col("cell")
        checked = pl.LazyFrame({"cell": text}).with_columns(value=self.clean(cell))
        refused = cell.is_not_null() & pl.col("value").is_null()
        return checked.select("value", reason=pl.when(refused).then(_fill(self.reason, cell))).collect()

    def form_message(self, label: str, value: str, reason: str) -> str:
        """The refusal as a form shows it next to the field."""
        return self.message.replace("{label}", label).replace("{value}", value).replace("{reason}", reason)


def check_one(rule: FieldRule, value: str, label: str, field: str) -> Any:
    """One value as stored (None when blank), or ContactsError with the rule's form message."""
    checked = rule.check_series(pl.Series([value], dtype=pl.String))
    reason = checked["reason"][0]
    if reason is not None:
        raise ContactsError(rule.form_message(label, value.strip(), reason), field=field)
    return checked["value"][0]


# --- The rules --------------------------------------------------------------------------------------------------


def _text(cells: pl.Series, one_line: bool = False) -> pl.DataFrame:
    """Text up to MAX_TEXT_LENGTH characters, without control characters (tab and line breaks allowed where a
    value may hold several lines, an address or a custom text; not in a name) or bidirectional overrides,
    which could make a name display as another or hide what follows it."""
    cell = pl.col("cell")
    reason = (
        pl.when(cell.str.len_chars() > MAX_TEXT_LENGTH)
        .then(_fill(f"the value is {{length}} characters; the limit is {MAX_TEXT_LENGTH}", cell))
        .when(cell.str.contains(_CONTROL))
        .then(pl.lit("the value holds a control character (such as NUL)"))
        .when(cell.str.contains(_BIDI))
        .then(pl.lit("the value holds a bidirectional override character (U+202A-U+202E, U+2066-U+2069)"))
        .when(pl.lit(one_line) & cell.str.contains(r"[\t\n\r]"))
        .then(pl.lit("the value holds a tab or line break; this field is one line"))
    )
    return (
        pl.LazyFrame({"cell": cells})
        .with_columns(reason=reason)
        .select(value=pl.when(pl.col("reason").is_null()).then(cell), reason="reason")
        .collect()
    )


def _contact_id(cells: pl.Expr) -> pl.Expr:
    return pl.when(
        ~cells.str.contains(_SPACE_CLASS)
        & ~cells.str.contains(_CONTROL)
        & ~cells.str.contains(_BIDI)
        & (cells.str.len_chars() <= MAX_CONTACT_ID_LENGTH)
    ).then(cells)


def _number(cells: pl.Expr) -> pl.Expr:
    number = cells.cast(pl.Float64, strict=False)
    number = pl.when(number.is_finite()).then(number)  # the cast also reads 'nan' and 'inf', no one's score
    whole = pl.when((number == number.floor()) & (number.abs() <= _WHOLE)).then(number.cast(pl.Int64, strict=False))
    return pl.coalesce(whole.cast(pl.String), number.cast(pl.String))


def _checkbox(cells: pl.Expr) -> pl.Expr:
    lowered = cells.str.to_lowercase()
    return (
        pl.when(lowered.is_in(TRUE_WORDS)).then(pl.lit("true")).when(lowered.is_in(FALSE_WORDS)).then(pl.lit("false"))
    )


def _moment(cells: pl.Expr) -> pl.Expr:
    """An ISO 8601 date and time as naive UTC (a time without a zone is taken as it is); null if it is none."""
    parts = cells.str.extract_groups(_DATETIME).struct
    text = pl.concat_str(
        parts.field("1"),
        pl.lit(" "),
        parts.field("2").fill_null("00"),
        pl.lit(":"),
        parts.field("3").fill_null("00"),
        pl.lit(":"),
        parts.field("4").fill_null("00"),
    )
    local = text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    offset = parts.field("5").str.replace("Z", "+00:00").str.replace(":", "")
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    minutes = sign * (offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(3, 2).cast(pl.Int64))
    return local - pl.duration(minutes=minutes.fill_null(0))


def _datetime(cells: pl.Expr) -> pl.Expr:
    return _moment(cells).dt.to_string("%Y-%m-%d %H:%M:%S")


def _date(cells: pl.Expr) -> pl.Expr:
    # The date a date and time starts with, as registries and CRMs export birthdays with a midnight.
    basic = pl.when(cells.str.contains(_BASIC_DATE)).then(cells.str.to_date("%Y%m%d", strict=False))
    extended = pl.when(cells.str.contains(_DATETIME)).then(cells.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    return pl.coalesce(basic, extended)


def choice_rule(options: Sequence[str], aliases: dict[str, str] | None = None, fold_case: bool = False) -> FieldRule:
    """A value from a closed list; with fold_case, any case (and the aliases) read as the option."""
    listed = ", ".join(options)
    allowed = pl.Series(list(options), dtype=pl.String).implode()

    def clean(cells: pl.Expr) -> pl.Expr:
        value = cells.str.to_lowercase().replace(aliases or {}) if fold_case else cells
        return pl.when(value.is_in(allowed)).then(value)

    return FieldRule(
        "choice",
        reason=f"'{{value}}' is not one of: {listed}",
        message=f"{{label}} must be one of: {listed}.",
        clean=clean,
    )


def known_rule(options: Sequence[str], noun: str, article: str = "a") -> FieldRule:
    """A value that names something the workspace has (a lead stage, an owner)."""
    allowed = pl.Series(list(options), dtype=pl.String).implode()
    return FieldRule(
        noun,
        reason=f"'{{value}}' is not a known {noun}",
        message=f"'{{value}}' is not {article} {noun}.",
        clean=lambda cells: pl.when(cells.is_in(allowed)).then(cells),
    )


def phone_rule(default_country: str = "US") -> FieldRule:
    """A phone number in E.164; numbers without a country code are read as the workspace's country."""
    return FieldRule(
        "phone", reason="{reason}", message="{reason}", batch=lambda cells: normalize_phones(cells, default_country)
    )


TEXT = FieldRule("text", reason="{reason}", message="{label}: {reason}.", batch=_text)
LINE = FieldRule("one-line text", reason="{reason}", message="{label}: {reason}.", batch=partial(_text, one_line=True))
CONTACT_ID = FieldRule(
    "contact ID",
    reason=f"a contact ID is 1 to {MAX_CONTACT_ID_LENGTH} characters without spaces or control characters",
    message=f"A contact ID is 1 to {MAX_CONTACT_ID_LENGTH} characters without spaces or control characters.",
    clean=_contact_id,
)
EMAIL = FieldRule("email", reason="{reason}", message="{reason}", batch=normalize_emails)
NUMBER = FieldRule("number", reason="'{value}' is not a number", message="{label} must be a number.", clean=_number)
CHECKBOX = FieldRule(
    "checkbox", reason="'{value}' is not true or false", message="{label} must be true or false.", clean=_checkbox
)
DATE = FieldRule(
    "date",
    reason="'{value}' is not a date like 1990-04-23",
    message="{label} must be a date like 1990-04-23.",
    clean=_date,
    dtype=pl.Date,
)
DATETIME = FieldRule(
    "datetime",
    reason="'{value}' is not a date and time like 2024-05-01 14:30",
    message="{label} must be a date and time like 2024-05-01 14:30.",
    clean=_datetime,
)
SUBSCRIPTION = choice_rule(
    SUBSCRIPTIONS,
    aliases={"yes": "subscribed", "true": "subscribed", "no": "unsubscribed", "false": "unsubscribed"},
    fold_case=True,
)
GENDER = choice_rule(GENDERS, fold_case=True)

# A custom field's rule by its type; dropdowns check their own options (custom_rule).
CUSTOM_RULES: dict[str, FieldRule] = {"text": TEXT, "number": NUMBER, "checkbox": CHECKBOX, "datetime": DATETIME}


def custom_rule(field: CustomField) -> FieldRule:
    """The rule for a custom field's values, stored as canonical text."""
    if field.type == "dropdown":
        return choice_rule(field.options)
    return CUSTOM_RULES.get(field.type, TEXT)
