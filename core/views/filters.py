"""Advanced filters: conditions on any field, in nested AND/OR groups, compiled to one SQL condition.

A filter is data (it serialises to JSON and is what a saved segment stores). A declarative
table of operators, in the manner of datasette's `filters.py`, gives each operator its SQL
fragment with named parameters and the words that describe it, so one filter yields both a
parameterised WHERE clause and a readable sentence. Values are parameters, never SQL text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, ValidationError

from core.contacts.activity import now as current_time
from core.contacts.custom_values import value_column
from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.validation import custom_fields
from core.db import rows
from core.db.dialect import DUCKDB, Dialect
from core.errors import ContactsError

Kind = Literal["text", "number", "datetime", "choice", "tags", "checkbox"]
MAX_DAYS = 100_000

_CHANNELS = ("email", "phone")  # system columns with additional values in contact_channels
# How each system field type is filtered.
_SYSTEM_KINDS: dict[str, Kind] = {
    "text": "text",
    "email": "text",
    "phone": "text",
    "stage": "choice",
    "owner": "choice",
    "subscription": "choice",
    "choice": "choice",
    "tags": "tags",
    "boolean": "checkbox",
    "date": "datetime",
    "datetime": "datetime",
    "number": "number",
    "checkbox": "checkbox",
    "dropdown": "choice",
}
_CUSTOM_KINDS: dict[str, Kind] = {
    "text": "text",
    "number": "number",
    "checkbox": "checkbox",
    "datetime": "datetime",
    "dropdown": "choice",
}
# Stored custom values are canonical text; these read them back as their type (bad text reads as empty).
_CUSTOM_VALUE_SQL: dict[Kind, str] = {
    "text": "{v}",
    "choice": "{v}",
    "checkbox": "{v}",
    "number": "{as_double}",  # the store's TRY_CAST (core.db.dialect.Dialect.try_cast)
    "datetime": "{as_timestamp}",
}
# A contact's row of custom values (core.contacts.custom_values), joined on the integer key.
_CUSTOM_ROW = "SELECT 1 FROM custom_values v WHERE v.row_key = c.row_key AND "
# Choice fields whose values are not a closed list (channels come from integrations).
_OPEN_CHOICES = frozenset({"channel"})


# --- The filter as data -----------------------------------------------------------------------------------------


class Condition(BaseModel):
    """One test on one field: `field` is a system key or 'custom.<key>', `op` an operator name."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: str
    value: Any = None


Match = Literal["all", "any"]


class Group(BaseModel):
    """Conditions and groups combined with AND ('all') or OR ('any'); a filter is its top group."""

    model_config = ConfigDict(extra="forbid")

    match: Match = "all"
    conditions: list[Condition | Group]

    def is_empty(self) -> bool:
        """Whether the filter has no condition at all (it then selects everything)."""
        return all(isinstance(item, Group) and item.is_empty() for item in self.conditions)


Filter = Group


def parse_filter(text: str | Mapping[str, Any]) -> Filter:
    """A filter from JSON text or a dict, with a readable error when its shape is wrong."""
    try:
        if isinstance(text, str):
            return Filter.model_validate_json(text)
        return Filter.model_validate(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "filter"
        raise ContactsError(f"The filter is not valid JSON of the right shape ({where}: {first['msg']}).") from None


def filter_json(filter_: Filter) -> str:
    """The filter as compact JSON (what a segment stores)."""
    return filter_.model_dump_json()


def filter_to_url(filter_: Filter) -> str:
    """The filter as the compact JSON a link carries (defaults left out); filter_from_url reads it back."""
    return filter_.model_dump_json(exclude_defaults=True)


def filter_from_url(text: str) -> Filter | None:
    """The filter a link carries, or None when it carries none or one that does not parse."""
    if not text:
        return None
    try:
        return parse_filter(text)
    except ContactsError:
        return None


# --- The fields a filter can test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterField:
    """A field as the filter sees it: its kind, where its value lives, and the values it may take."""

    key: str
    label: str
    kind: Kind
    column: str | None = None  # system column on contacts `c`
    custom_key: str | None = None  # custom field key: its column in custom_values
    choices: tuple[str, ...] = ()  # offered values (for choice kinds)
    closed: bool = False  # whether a value outside `choices` is refused
    names: tuple[tuple[str, str], ...] = ()  # value to display name (owners)

    def display(self, value: str) -> str:
        """How a stored value reads in a sentence (an owner's name rather than their ID)."""
        return dict(self.names).get(value, value)


def filter_fields(con: duckdb.DuckDBPyConnection) -> dict[str, FilterField]:
    """Every field a filter can test, system then custom, keyed as the filter names them."""
    stages = tuple(name for (name,) in rows(con, "SELECT name FROM lead_stages ORDER BY position"))
    owners = tuple(rows(con, "SELECT owner_id, name FROM owners ORDER BY name"))
    fields: dict[str, FilterField] = {}
    for field in SYSTEM_FIELDS:
        choices: tuple[str, ...] = field.choices
        if field.type == "stage":
            choices = stages
        elif field.type == "owner":
            choices = tuple(owner_id for owner_id, _ in owners)
        fields[field.key] = FilterField(
            key=field.key,
            label=field.label,
            kind=_SYSTEM_KINDS[field.type],
            column=field.key,
            choices=choices,
            closed=bool(choices) and field.key not in _OPEN_CHOICES,
            names=owners if field.type == "owner" else (),
        )
    for custom in custom_fields(con):
        key = f"custom.{custom.key}"
        fields[key] = FilterField(
            key=key,
            label=custom.label,
            kind=_CUSTOM_KINDS[custom.type],
            custom_key=custom.key,
            choices=tuple(custom.options),
            closed=custom.type == "dropdown",
        )
    return fields


# --- The operator table -----------------------------------------------------------------------------------------

ValueShape = Literal["none", "text", "number", "moment", "number_range", "moment_range", "days", "choices"]


@dataclass(frozen=True)
class Operator:
    """How one operator reads and compiles.

    `template` is a predicate on `{x}` (the field's value) with parameters `{p}` and `{q}`. A
    `negated` operator is the complement of its template, so a contact without a value matches
    it ("email does not contain 'acme'" includes contacts without an email).
    """

    name: str
    words: str
    template: str
    value: ValueShape = "none"
    negated: bool = False
    each: Literal["", "any", "all"] = ""  # the template tests one value of the list; any or all of them hold


def _ops(*operators: Operator) -> dict[str, Operator]:
    return {operator.name: operator for operator in operators}


_NOT_EMPTY_TEXT = "{x} IS NOT NULL AND {x} <> ''"
_ORDERED = (
    Operator("equals", "is", "{x} = {p}", "moment"),
    Operator("after", "is after", "{x} > {p}", "moment"),
    Operator("before", "is before", "{x} < {p}", "moment"),
    Operator("between", "is between", "{x} BETWEEN {p} AND {q}", "moment_range"),
)

OPERATORS: dict[Kind, dict[str, Operator]] = {
    "text": _ops(
        Operator("is", "is", "lower({x}) = lower({p})", "text"),
        Operator("is_not", "is not", "lower({x}) = lower({p})", "text", negated=True),
        Operator("contains", "contains", "contains(lower({x}), lower({p}))", "text"),
        Operator("not_contains", "does not contain", "contains(lower({x}), lower({p}))", "text", negated=True),
        Operator("starts_with", "starts with", "starts_with(lower({x}), lower({p}))", "text"),
        Operator("ends_with", "ends with", "ends_with(lower({x}), lower({p}))", "text"),
        Operator("is_empty", "is empty", _NOT_EMPTY_TEXT, negated=True),
        Operator("is_not_empty", "is not empty", _NOT_EMPTY_TEXT),
    ),
    "number": _ops(
        Operator("equals", "equals", "{x} = {p}", "number"),
        Operator("greater", "is greater than", "{x} > {p}", "number"),
        Operator("less", "is less than", "{x} < {p}", "number"),
        Operator("between", "is between", "{x} BETWEEN {p} AND {q}", "number_range"),
        Operator("is_empty", "is empty", "{x} IS NOT NULL", negated=True),
        Operator("is_not_empty", "is not empty", "{x} IS NOT NULL"),
    ),
    "datetime": _ops(
        *_ORDERED,
        Operator("within_last_days", "is within the last", "{x} >= {p} AND {x} <= {q}", "days"),
        Operator("is_empty", "is empty", "{x} IS NOT NULL", negated=True),
        Operator("is_not_empty", "is not empty", "{x} IS NOT NULL"),
    ),
    "choice": _ops(
        Operator("any_of", "is any of", "list_contains({p}, {x})", "choices"),
        Operator("none_of", "is none of", "list_contains({p}, {x})", "choices", negated=True),
        Operator("is_empty", "is empty", "{x} IS NOT NULL", negated=True),
        Operator("is_not_empty", "is not empty", "{x} IS NOT NULL"),
    ),
    "tags": _ops(
        # One list_contains per tag: three times faster than list_has_any over a million tag lists.
        Operator("has_any", "has any of", "list_contains({x}, {p})", "choices", each="any"),
        Operator("has_all", "has all of", "list_contains({x}, {p})", "choices", each="all"),
        Operator("has_none", "has none of", "list_contains({x}, {p})", "choices", negated=True, each="any"),
        Operator("is_empty", "is empty", "len({x}) > 0", negated=True),
        Operator("is_not_empty", "is not empty", "len({x}) > 0"),
    ),
    "checkbox": _ops(
        Operator("is_true", "is true", "{x}"),
        Operator("is_false", "is false", "{x}", negated=True),
    ),
}


def operators_for(kind: Kind) -> dict[str, Operator]:
    """The operators a field of this kind offers, by name, in the order a menu shows them."""
    return OPERATORS[kind]


# --- Checking values --------------------------------------------------------------------------------------------


def _refuse(field: FilterField, operator: Operator, needs: str, value: Any) -> ContactsError:
    return ContactsError(f"{field.label} {operator.words} needs {needs}, not {json.dumps(value, default=str)}.")


def _number(field: FilterField, operator: Operator, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _refuse(field, operator, "a number", value)
    try:
        number = float(value)
    except ValueError:
        raise _refuse(field, operator, "a number", value) from None
    if not math.isfinite(number):
        raise _refuse(field, operator, "a number", value)
    return number


def _moment(field: FilterField, operator: Operator, value: Any) -> date | datetime:
    """A date (compared by day) or a date and time (compared exactly)."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError:
            pass
    raise _refuse(field, operator, "a date like 2024-05-01 or a date and time like 2024-05-01 14:30", value)


def _pair(field: FilterField, operator: Operator, value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _refuse(field, operator, "two values, from and to", value)
    return value[0], value[1]


def _choices(field: FilterField, operator: Operator, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise _refuse(field, operator, "one or more values", value)
    cleaned = list(dict.fromkeys(item.strip() for item in items))
    unknown = [item for item in cleaned if field.closed and item not in field.choices]
    if unknown:
        raise ContactsError(f"{field.label} has no value '{unknown[0]}'; it is one of: {', '.join(field.choices)}.")
    return cleaned


def checked_value(field: FilterField, operator: Operator, value: Any) -> Any:
    """The condition's value in its proper type, or a ContactsError saying what the operator needs."""
    shape = operator.value
    if shape == "none":
        return None
    if shape == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
            raise _refuse(field, operator, "some text", value)
        return str(value)
    if shape == "number":
        return _number(field, operator, value)
    if shape == "moment":
        return _moment(field, operator, value)
    if shape == "choices":
        return _choices(field, operator, value)
    if shape == "days":
        days = _number(field, operator, value)
        if not days.is_integer() or not 0 < days <= MAX_DAYS:
            raise _refuse(field, operator, f"a whole number of days from 1 to {MAX_DAYS:,}", value)
        return int(days)
    low, high = _pair(field, operator, value)
    check = _number if shape == "number_range" else _moment
    low, high = check(field, operator, low), check(field, operator, high)
    if type(low) is not type(high):
        raise _refuse(field, operator, "two dates, or two dates and times", value)
    if low > high:  # type: ignore[operator]  # same type, checked just above
        raise ContactsError(f"{field.label} {operator.words}: the first value must not be after the second.")
    return [low, high]


def resolve(fields: Mapping[str, FilterField], condition: Condition) -> tuple[FilterField, Operator, Any]:
    """The field, operator and typed value of a condition; a ContactsError for anything unknown or ill-typed."""
    field = fields.get(condition.field)
    if field is None:
        raise ContactsError(f"There is no field '{condition.field}' to filter on.")
    operator = OPERATORS[field.kind].get(condition.op)
    if operator is None:
        offered = ", ".join(op.words for op in OPERATORS[field.kind].values())
        raise ContactsError(f"{field.label} cannot be filtered with '{condition.op}'; it offers: {offered}.")
    return field, operator, checked_value(field, operator, condition.value)


def check_filter(fields: Mapping[str, FilterField], filter_: Filter) -> None:
    """Raise a ContactsError if any condition of the filter is unknown or has a value of the wrong type."""
    for item in filter_.conditions:
        if isinstance(item, Group):
            check_filter(fields, item)
        else:
            resolve(fields, item)


# --- Compiling to SQL -------------------------------------------------------------------------------------------


class _Compiler:
    """Numbers the parameters of one filter so that several filters can share a statement."""

    def __init__(self, fields: Mapping[str, FilterField], prefix: str, moment: datetime, store: Dialect) -> None:
        self.fields, self.prefix, self.moment, self.store = fields, prefix, moment, store
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return "$" + name

    def group(self, group: Group) -> str:
        parts: list[str] = []
        custom: list[tuple[bool, str]] = []  # (negated, predicate on the custom values row `v`)
        for item in group.conditions:
            if isinstance(item, Group):
                parts.append(self.group(item))
                continue
            field, operator, value = resolve(self.fields, item)
            if field.custom_key is None:
                parts.append(self.condition(field, operator, value))
            else:
                if not custom:
                    parts.append("")  # the custom conditions' place, filled below
                custom.append((operator.negated, f"({self.predicate(field, operator, value)})"))
        if custom:
            parts[parts.index("")] = self.custom_row(group.match, custom)
        parts = [part for part in parts if part != "TRUE"]
        if not parts:
            return "TRUE"
        return "(" + (" AND " if group.match == "all" else " OR ").join(parts) + ")"

    def condition(self, field: FilterField, operator: Operator, value: Any) -> str:
        if field.column in _CHANNELS and not operator.each:
            # An email or phone condition sees the additional values too (contact_channels), as Dialect.held_by
            # spells it: on DuckDB an IN hashed once (at 1,000,000 a page of "email is not empty" 98-107 -> 63 ms
            # CPU against a correlated EXISTS); PostgreSQL keeps the EXISTS (see held_by).
            p, q = self.values(operator, value)
            own = operator.template.format(x=self.value_sql(field, value), p=p, q=q)
            extra = operator.template.format(x="ch.value", p=p, q=q)
            rows = f"FROM contact_channels ch WHERE ch.kind = '{field.column}' AND {extra}"
            predicate = f"coalesce({own}, FALSE) OR {self.store.held_by('c.contact_id', rows, 'ch.contact_id')}"
        else:
            predicate = self.predicate(field, operator, value)
        # No NOT ever sits above a condition, so a NULL (no value) already acts as FALSE; only a negated
        # operator needs it made FALSE first, so that contacts without a value match its complement.
        return f"(NOT coalesce({predicate}, FALSE))" if operator.negated else f"({predicate})"

    def predicate(self, field: FilterField, operator: Operator, value: Any) -> str:
        """The operator's own test (before any negation) on the field's value."""
        x = self.value_sql(field, value)
        if operator.each:
            tests = [operator.template.format(x=x, p=self.bind(item), q="") for item in value]
            return "(" + (" OR " if operator.each == "any" else " AND ").join(tests) + ")"
        p, q = self.values(operator, value)
        return operator.template.format(x=x, p=p, q=q)

    @staticmethod
    def custom_row(match: Match, custom: list[tuple[bool, str]]) -> str:
        """A group's custom conditions as one test of the contact's custom values row (a contact has one at
        most, or none: then every condition is false and every negated one true).

        One EXISTS for them all: a join per condition costs three times as much at 1,000,000 contacts.
        """
        held = [predicate for negated, predicate in custom if not negated]
        refused = [predicate for negated, predicate in custom if negated]
        if match == "all":
            if not held:  # none of the refused tests holds for the row, if there is one
                return f"(NOT EXISTS ({_CUSTOM_ROW}({' OR '.join(refused)})))"
            tests = held + [f"NOT coalesce({predicate}, FALSE)" for predicate in refused]
            return f"EXISTS ({_CUSTOM_ROW}{' AND '.join(tests)})"
        if not refused:
            return f"EXISTS ({_CUSTOM_ROW}({' OR '.join(held)}))"
        # Any: false only where the row holds every refused test and none of the held ones.
        tests = refused + ([f"NOT coalesce({' OR '.join(held)}, FALSE)"] if held else [])
        return f"(NOT EXISTS ({_CUSTOM_ROW}{' AND '.join(tests)}))"

    def value_sql(self, field: FilterField, value: Any) -> str:
        if field.custom_key is None:
            x = f"c.{field.column}"
        else:
            v = value_column(field.custom_key, "v")
            x = _CUSTOM_VALUE_SQL[field.kind].format(
                v=v, as_double=self.store.try_cast(v, "DOUBLE"), as_timestamp=self.store.try_cast(v, "TIMESTAMP")
            )
        if field.kind == "checkbox" and field.custom_key is not None:
            return f"({x} = 'true')"
        if field.kind == "datetime":
            # A date compares whole days; a date and time (or 'within the last') compares moments.
            by_day = (
                isinstance(value, date)
                and not isinstance(value, datetime)
                or (isinstance(value, list) and not isinstance(value[0], datetime))
            )
            return f"CAST({x} AS DATE)" if by_day else f"CAST({x} AS TIMESTAMP)"
        return x

    def values(self, operator: Operator, value: Any) -> tuple[str, str]:
        if operator.value == "none":
            return "", ""
        if operator.value == "days":
            return self.bind(self.moment - timedelta(days=value)), self.bind(self.moment)
        if isinstance(value, list) and operator.value.endswith("_range"):
            return self.bind(value[0]), self.bind(value[1])
        return self.bind(value), ""


def compile_filter(
    filter_: Filter | None,
    fields: Mapping[str, FilterField],
    prefix: str = "f",
    moment: datetime | None = None,
    store: Dialect = DUCKDB,
) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and named parameters selecting the contacts a filter matches.

    `prefix` names the parameters, so that a segment's filter and the view's filter can share
    one statement; `moment` is 'now' for 'within the last N days' (the current time by default); `store` is the
    database's dialect (`dialect(con)`), which spells reading a number or date out of a custom value.
    """
    if filter_ is None:
        return "TRUE", {}
    compiler = _Compiler(fields, prefix, moment or current_time(), store)
    return compiler.group(filter_), compiler.params


# --- Describing in words ----------------------------------------------------------------------------------------


def _words_for_value(field: FilterField, operator: Operator, value: Any) -> str:
    if operator.value == "none":
        return ""
    if operator.value == "text":
        return f" '{value}'"
    if operator.value == "choices":
        return " " + ", ".join(field.display(item) for item in value)
    if operator.value == "days":
        return f" {value} day{'' if value == 1 else 's'}"
    if isinstance(value, list):
        return f" {_shown(value[0])} and {_shown(value[1])}"
    return f" {_shown(value)}"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() or abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    return str(value)


def describe_condition(fields: Mapping[str, FilterField], condition: Condition) -> str:
    """One condition in words: "Email contains 'acme'"."""
    field, operator, value = resolve(fields, condition)
    return f"{field.label} {operator.words}{_words_for_value(field, operator, value)}"


def describe_filter(filter_: Filter | None, fields: Mapping[str, FilterField], nested: bool = False) -> str:
    """The filter as a sentence: "Lead stage is any of Lead, Contact and Email contains 'acme'"."""
    if filter_ is None or filter_.is_empty():
        return "" if nested else "Every contact"
    parts = []
    for item in filter_.conditions:
        if isinstance(item, Group):
            if not item.is_empty():
                inner = describe_filter(item, fields, nested=True)
                parts.append(f"({inner})" if len(item.conditions) > 1 else inner)
        else:
            parts.append(describe_condition(fields, item))
    return (" and " if filter_.match == "all" else " or ").join(parts)
