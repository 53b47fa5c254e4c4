"""Turning what a user typed into stored values, with a readable error per field.

Every check is a field rule of core.contacts.rules run on a one-row column, so a form, a file and a
channel event accept and refuse the same values.
"""

from datetime import date, datetime
from typing import Any

import duckdb

from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.contacts.models import CustomField
from core.contacts.rules import (
    CONTACT_ID,
    DATE,
    EMAIL,
    GENDER,
    LINE,
    MAX_CONTACT_ID_LENGTH,
    MAX_TEXT_LENGTH,
    SUBSCRIPTION,
    TEXT,
    FieldRule,
    check_one,
    choice_rule,
    custom_rule,
    known_rule,
    phone_rule,
)
from core.db import rows, scalar
from core.errors import ContactsError

__all__ = ["MAX_CONTACT_ID_LENGTH", "MAX_TEXT_LENGTH"]


def blank(value: Any) -> bool:
    """Whether a value means 'nothing entered'."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def default_country(con: duckdb.DuckDBPyConnection) -> str:
    """The country assumed for phone numbers written without a country code."""
    return scalar(con, "SELECT value FROM settings WHERE key = 'default_country'") or "US"


def clean_contact_id(value: str) -> str:
    """A contact ID as stored: trimmed, non-empty, no spaces, at most 64 characters."""
    cleaned = check_one(CONTACT_ID, value, "Contact ID", "contact_id")
    if cleaned is None:
        raise ContactsError(CONTACT_ID.form_message("Contact ID", value, ""), field="contact_id")
    return cleaned


def _as_text(value: Any) -> str:
    """A typed Python value as the text a cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _clean_tags(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = [str(item).strip() for item in items]
    return list(dict.fromkeys(tag for tag in cleaned if tag))


# System text fields that may hold several lines (a street address); every other one is one line.
MULTI_LINE_KEYS = frozenset({"address"})


def system_rule(con: duckdb.DuckDBPyConnection, key: str) -> FieldRule:
    """The rule for a system field's values (not tags, which are a list); stages and owners are read here."""
    field = SYSTEM_FIELD_BY_KEY[key]
    if key == "contact_id":
        return CONTACT_ID
    if field.type == "email":
        return EMAIL
    if field.type == "phone":
        return phone_rule(default_country(con))
    if field.type == "stage":
        return known_rule([name for (name,) in rows(con, "SELECT name FROM lead_stages")], "lead stage")
    if field.type == "owner":
        return known_rule([owner for (owner,) in rows(con, "SELECT owner_id FROM owners")], "owner", "an")
    if field.type == "subscription":
        return SUBSCRIPTION
    if key == "gender":
        return GENDER
    if field.choices and key != "channel":  # channels come from integrations: not a closed list
        return choice_rule(field.choices)
    if field.type == "date":
        return DATE
    return TEXT if key in MULTI_LINE_KEYS else LINE


def clean_system_value(con: duckdb.DuckDBPyConnection, key: str, value: Any) -> dict[str, Any]:
    """Validate one system field; returns the columns to store (phone also sets phone_raw)."""
    field = SYSTEM_FIELD_BY_KEY.get(key)
    if field is None or not field.editable:
        raise ContactsError(f"'{key}' is not a field that can be edited.", field=key)
    if blank(value):
        if key == "lead_stage":
            raise ContactsError("Lead stage cannot be empty.", field=key)
        if key in ("email_subscription", "sms_subscription"):
            return {key: "not set"}
        if key == "tags":
            return {key: []}
        return {key: None, "phone_raw": None} if key == "phone" else {key: None}
    if field.type == "tags":
        return {key: _clean_tags(value)}
    cleaned = check_one(system_rule(con, key), _as_text(value), field.label, key)
    return {key: cleaned, "phone_raw": str(value).strip()} if field.type == "phone" else {key: cleaned}


def clean_custom_value(field: CustomField, value: Any) -> str | None:
    """A custom value in its canonical text form (None clears it)."""
    if blank(value):
        return None
    return check_one(custom_rule(field), _as_text(value), field.label, f"custom.{field.key}")


def custom_fields(con: duckdb.DuckDBPyConnection) -> list[CustomField]:
    """Every custom field, in display order."""
    found = rows(con, "SELECT key, label, type, options, is_identity, position FROM custom_fields ORDER BY position")
    return [CustomField(key=k, label=lb, type=t, options=o, is_identity=i, position=p) for k, lb, t, o, i, p in found]
