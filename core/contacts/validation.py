"""Turning what a user typed into stored values, with a readable error per field."""

import math
from datetime import date, datetime
from typing import Any

import duckdb

from core.contacts.fields import SYSTEM_FIELD_BY_KEY, Field
from core.contacts.models import CustomField
from core.contacts.normalize import normalize_email, normalize_phone
from core.db import rows, scalar
from core.errors import ContactsError

MAX_TEXT_LENGTH = 2000
MAX_CONTACT_ID_LENGTH = 64


def blank(value: Any) -> bool:
    """Whether a value means 'nothing entered'."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def default_country(con: duckdb.DuckDBPyConnection) -> str:
    """The country assumed for phone numbers written without a country code."""
    return scalar(con, "SELECT value FROM settings WHERE key = 'default_country'") or "US"


def clean_contact_id(value: str) -> str:
    """A contact ID as stored: trimmed, non-empty, no spaces, at most 64 characters."""
    text = value.strip()
    if not text or any(ch.isspace() for ch in text) or len(text) > MAX_CONTACT_ID_LENGTH:
        raise ContactsError(
            f"A contact ID is 1 to {MAX_CONTACT_ID_LENGTH} characters without spaces.", field="contact_id"
        )
    return text


def _clean_text(field: Field, value: Any) -> str:
    text = str(value).strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ContactsError(f"{field.label} is longer than {MAX_TEXT_LENGTH} characters.", field=field.key)
    return text


def _clean_date(field: Field, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ContactsError(f"{field.label} must be a date like 1990-04-23.", field=field.key) from None


def _clean_tags(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = [str(item).strip() for item in items]
    return list(dict.fromkeys(tag for tag in cleaned if tag))


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
    if field.type == "email":
        return {key: normalize_email(str(value))}
    if field.type == "phone":
        raw = str(value).strip()
        return {key: normalize_phone(raw, default_country(con)), "phone_raw": raw}
    if field.type == "stage":
        if not scalar(con, "SELECT count(*) FROM lead_stages WHERE name = ?", [value]):
            raise ContactsError(f"'{value}' is not a lead stage.", field=key)
        return {key: value}
    if field.type == "owner":
        if not scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ?", [value]):
            raise ContactsError(f"'{value}' is not an owner.", field=key)
        return {key: value}
    if field.type == "tags":
        return {key: _clean_tags(value)}
    if field.choices and key != "channel" and value not in field.choices:
        raise ContactsError(f"{field.label} must be one of: {', '.join(field.choices)}.", field=key)
    if field.type == "date":
        return {key: _clean_date(field, value)}
    return {key: _clean_text(field, value)}


def clean_custom_value(field: CustomField, value: Any) -> str | None:
    """A custom value in its canonical text form (None clears it)."""
    if blank(value):
        return None
    text = str(value).strip()
    if field.type == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):  # float() also reads 'nan' and 'inf', which are no one's score
            raise ContactsError(f"{field.label} must be a number.", field=f"custom.{field.key}")
        return repr(int(number)) if number.is_integer() else repr(number)
    if field.type == "checkbox":
        if isinstance(value, bool):
            return "true" if value else "false"
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "y", "x", "checked"):
            return "true"
        if lowered in ("false", "no", "0", "n", "unchecked"):
            return "false"
        raise ContactsError(f"{field.label} must be true or false.", field=f"custom.{field.key}")
    if field.type == "datetime":
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(text)
        except ValueError:
            raise ContactsError(
                f"{field.label} must be a date and time like 2024-05-01 14:30.", field=f"custom.{field.key}"
            ) from None
        return moment.isoformat(sep=" ")
    if field.type == "dropdown" and text not in field.options:
        raise ContactsError(f"{field.label} must be one of: {', '.join(field.options)}.", field=f"custom.{field.key}")
    if len(text) > MAX_TEXT_LENGTH:
        raise ContactsError(f"{field.label} is longer than {MAX_TEXT_LENGTH} characters.", field=f"custom.{field.key}")
    return text


def custom_fields(con: duckdb.DuckDBPyConnection) -> list[CustomField]:
    """Every custom field, in display order."""
    found = rows(con, "SELECT key, label, type, options, is_identity, position FROM custom_fields ORDER BY position")
    return [CustomField(key=k, label=lb, type=t, options=o, is_identity=i, position=p) for k, lb, t, o, i, p in found]
