"""Workspace settings: owners (users), lead stages, custom fields and per-user preferences."""

import json
import re
from typing import Any

import duckdb
import phonenumbers

from core.contacts.fields import DEFAULT_TABLE_COLUMNS, SYSTEM_FIELD_BY_KEY
from core.contacts.models import CustomField
from core.contacts.validation import custom_fields
from core.db import rows, scalar, transaction
from core.errors import ContactsError

CUSTOM_FIELD_TYPES = ("text", "number", "checkbox", "datetime", "dropdown")
IDENTITY_FIELD_TYPES = ("text", "number")  # an ID or membership number; a few choices or a date identify no one
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def add_owner(
    con: duckdb.DuckDBPyConnection, owner_id: str, name: str, role: str = "agent", email: str | None = None
) -> None:
    """Add a user who can own contacts (role 'admin' or 'agent')."""
    if role not in ("admin", "agent"):
        raise ContactsError("A role is 'admin' or 'agent'.", field="role")
    if scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ?", [owner_id]):
        raise ContactsError(f"There is already a user '{owner_id}'.", field="owner_id")
    con.execute("INSERT INTO owners (owner_id, name, email, role) VALUES (?, ?, ?, ?)", [owner_id, name, email, role])


def owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Owner ID to display name, in name order."""
    return dict(rows(con, "SELECT owner_id, name FROM owners WHERE active ORDER BY name"))


def owner_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every owner's display name by ID, deactivated ones too (they may still own contacts)."""
    return dict(rows(con, "SELECT owner_id, name FROM owners ORDER BY name"))


def ensure_owner(con: duckdb.DuckDBPyConnection, owner_id: str, role: str = "admin") -> None:
    """Make sure the configured local user exists (first start)."""
    if not scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ?", [owner_id]):
        add_owner(con, owner_id, owner_id.title(), role)


def lead_stages(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Lead stages in pipeline order."""
    return [name for (name,) in rows(con, "SELECT name FROM lead_stages ORDER BY position")]


def define_custom_field(
    con: duckdb.DuckDBPyConnection,
    key: str,
    label: str,
    type: str,
    options: list[str] | None = None,
    is_identity: bool = False,
) -> CustomField:
    """Add a custom field; the key is lower-case letters, digits and underscores."""
    if not _KEY.match(key) or key in SYSTEM_FIELD_BY_KEY:
        raise ContactsError(
            "A field key starts with a letter and has only lower-case letters, digits and underscores, "
            "and is not a system field.",
            field="key",
        )
    if type not in CUSTOM_FIELD_TYPES:
        raise ContactsError(f"A field type is one of {', '.join(CUSTOM_FIELD_TYPES)}.", field="type")
    choices = [option.strip() for option in options or [] if option.strip()]
    if type == "dropdown" and not choices:
        raise ContactsError("A dropdown needs at least one option.", field="options")
    with transaction(con):
        if scalar(con, "SELECT count(*) FROM custom_fields WHERE key = ?", [key]):
            raise ContactsError(f"There is already a custom field '{key}'.", field="key")
        position = scalar(con, "SELECT coalesce(max(position), 0) + 1 FROM custom_fields")
        con.execute(
            "INSERT INTO custom_fields VALUES (?, ?, ?, ?, ?, ?)", [key, label, type, choices, is_identity, position]
        )
    return CustomField(key=key, label=label, type=type, options=choices, is_identity=is_identity, position=position)


def set_identity_fields(con: duckdb.DuckDBPyConnection, keys: list[str], actor: str) -> list[str]:
    """Mark which custom fields identify a person (the others are unmarked): duplicate detection blocks on
    them and weighs a match heavily. Admins only; the next detection run uses them."""
    if user_role(con, actor) != "admin":
        raise ContactsError("Only admins can choose the fields that identify a contact.")
    fields = {field.key: field for field in custom_fields(con)}
    wanted = list(dict.fromkeys(keys))
    unknown = [key for key in wanted if key not in fields]
    if unknown:
        raise ContactsError(f"Unknown custom field(s): {', '.join(unknown)}.", field="identity")
    wrong = [fields[key].label for key in wanted if fields[key].type not in IDENTITY_FIELD_TYPES]
    if wrong:
        raise ContactsError(f"Only text and number fields can identify a contact, not {', '.join(wrong)}.", "identity")
    con.execute("UPDATE custom_fields SET is_identity = list_contains($keys, key)", {"keys": wanted})
    return wanted


def column_choices(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every column the table can show: key to label (custom fields as 'custom.key')."""
    system = {key: field.label for key, field in SYSTEM_FIELD_BY_KEY.items()}
    return system | {f"custom.{field.key}": field.label for field in custom_fields(con)}


def table_columns(con: duckdb.DuckDBPyConnection, user: str) -> list[str]:
    """The columns a user chose for the contacts table, in order (defaults if none chosen)."""
    stored = scalar(con, "SELECT value FROM user_preferences WHERE user_id = ? AND key = 'table_columns'", [user])
    if stored is None:
        return list(DEFAULT_TABLE_COLUMNS)
    known = column_choices(con)
    return [column for column in json.loads(stored) if column in known]


def set_table_columns(con: duckdb.DuckDBPyConnection, user: str, columns: list[str]) -> None:
    """Keep a user's choice of table columns and their order."""
    known = column_choices(con)
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ContactsError(f"Unknown field(s): {', '.join(unknown)}.", field="columns")
    if not columns:
        raise ContactsError("Choose at least one field to show.", field="columns")
    value: Any = json.dumps(list(dict.fromkeys(columns)))
    con.execute("INSERT OR REPLACE INTO user_preferences VALUES (?, 'table_columns', ?)", [user, value])


def user_role(con: duckdb.DuckDBPyConnection, user: str) -> str | None:
    """'admin', 'agent', or None for an unknown user."""
    return scalar(con, "SELECT role FROM owners WHERE owner_id = ? AND active", [user])


def tag_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every tag in use, alphabetically."""
    return [tag for (tag,) in rows(con, "SELECT DISTINCT unnest(tags) AS tag FROM contacts ORDER BY tag")]


def set_default_country(con: duckdb.DuckDBPyConnection, country: str) -> None:
    """Set the country assumed for phone numbers written without a country code (ISO code, e.g. 'GB')."""
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(f"'{country}' is not a country code phone numbers know (e.g. US, GB, DE).", field="country")
    con.execute("INSERT OR REPLACE INTO settings VALUES ('default_country', ?)", [code])
