"""The list filter behind each bar or slice of the dashboard: a click opens the contacts it counts.

Each function returns the Filter (core.views.filters) that selects, inside the All contacts segment,
exactly the contacts a figure of core.dashboard.figures counted for that bar.
"""

from collections.abc import Mapping
from datetime import date

from core.dashboard.countries import calling_codes_of
from core.dashboard.periods import Grain, period_end
from core.views.filters import Condition, Filter, FilterField, Group

NAME_FIELDS = ("first_name", "last_name")


def _only(*conditions: Condition | Group, match: str = "all") -> Filter:
    return Group(match="any" if match == "any" else "all", conditions=list(conditions))


def choice_filter(field: str, value: str | None) -> Filter:
    """Contacts whose choice field (lead stage, owner, source, subscription...) is this value, or empty."""
    if value is None:
        return _only(Condition(field=field, op="is_empty"))
    return _only(Condition(field=field, op="any_of", value=[value]))


def tag_filter(tag: str) -> Filter:
    """Contacts with this tag."""
    return _only(Condition(field="tags", op="has_any", value=[tag]))


def country_filter(country: str) -> Filter:
    """Contacts whose country field is this country or, with no country field, whose phone's calling code is."""
    by_phone = [
        _only(Condition(field="country", op="is_empty"), Condition(field="phone", op="starts_with", value=f"+{code}"))
        for code in calling_codes_of(country)
    ]
    return _only(Condition(field="country", op="is", value=country), *by_phone, match="any")


def created_filter(
    period: date, grain: Grain, field: str, value: str | None, within: tuple[date, date] | None = None
) -> Filter:
    """Contacts created in this period (clipped to the chart's range) with this source or channel."""
    first, last = period, period_end(period, grain)
    if within is not None:
        first, last = max(first, within[0]), min(last, within[1])
    created = Condition(field="created_on", op="between", value=[first.isoformat(), last.isoformat()])
    return _only(created, *choice_filter(field, value).conditions)


def filled_filter(fields: Mapping[str, FilterField], key: str) -> Filter | None:
    """Contacts with this completeness field filled ('name': a first or last name); None for a checkbox,
    which has no filter for "has a value" (is false also holds for a contact without one)."""
    if key == "name":
        return _only(*(Condition(field=name, op="is_not_empty") for name in NAME_FIELDS), match="any")
    if fields[key].kind == "checkbox":
        return None
    return _only(Condition(field=key, op="is_not_empty"))
