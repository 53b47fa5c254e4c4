"""Workspace settings: owners (users), lead stages, custom fields, per-user preferences and settings.

Every change here is an admin's (the permission table in core.accounts.permissions) and is logged in the
workspace log with who and when; a change that rewrites contacts (a stage renamed or removed, a dropdown
option mapped, a field deleted) bumps their versions and logs each contact's before and after.
"""

import json
import re
from typing import Any

import duckdb
import phonenumbers

from core.accounts.audit import log_workspace_change
from core.accounts.permissions import role_of, writes
from core.accounts.users import add_user
from core.config import rotate_ingest_token as _rotate_token
from core.contacts.activity import now
from core.contacts.custom_values import RESERVED_KEYS, add_value_column, drop_value_column, value_column
from core.contacts.fields import DEFAULT_TABLE_COLUMNS, SYSTEM_FIELD_BY_KEY
from core.contacts.models import CustomField
from core.contacts.validation import custom_fields
from core.db import Scratch, rows, scalar, scratch, transaction
from core.errors import ContactsError
from core.views.search_index import refresh_custom_terms

CUSTOM_FIELD_TYPES = ("text", "number", "checkbox", "datetime", "dropdown")
IDENTITY_FIELD_TYPES = ("text", "number")  # an ID or membership number; a few choices or a date identify no one
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SESSION_IDLE_RANGE = (5, 7 * 24 * 60)  # minutes


@writes("users.manage")
def add_owner(
    con: duckdb.DuckDBPyConnection,
    owner_id: str,
    name: str,
    role: str = "agent",
    email: str | None = None,
    *,
    actor: str,
) -> None:
    """Add a user who can own contacts (role 'admin' or 'agent'), without a password (see core.accounts.users)."""
    add_user(con, owner_id, name, role, None, actor, email=email)


def owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Owner ID to display name, in name order."""
    return dict(rows(con, "SELECT owner_id, name FROM owners WHERE active ORDER BY name"))


def owner_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every owner's display name by ID, deactivated ones too (they may still own contacts)."""
    return dict(rows(con, "SELECT owner_id, name FROM owners ORDER BY name"))


def user_role(con: duckdb.DuckDBPyConnection, user: str) -> str | None:
    """'admin', 'agent', or None for an unknown or deactivated user."""
    role = role_of(con, user)
    return role if role in ("admin", "agent") else None


def lead_stages(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Lead stages in pipeline order."""
    return [name for (name,) in rows(con, "SELECT name FROM lead_stages ORDER BY position")]


def _custom_field(con: duckdb.DuckDBPyConnection, key: str) -> CustomField:
    found = {field.key: field for field in custom_fields(con)}
    if key not in found:
        raise ContactsError(f"There is no custom field '{key}'.", field="key")
    return found[key]


def _rewrite_contacts(
    con: duckdb.DuckDBPyConnection, selected: Scratch, actor: str, field: str, before: Any, after: Any
) -> int:
    """Log `field` going from `before` to `after` on the selected contacts and bump their versions (set-based)."""
    changes = json.dumps({field: {"before": before, "after": after}})
    moment = now()
    con.execute(
        "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
        f"SELECT contact_id, $at, $actor, 'updated', $changes FROM {selected}",
        {"at": moment, "actor": actor, "changes": changes},
    )
    changed = scalar(
        con,
        "UPDATE contacts SET version = version + 1, last_updated = $at "
        f"WHERE contact_id IN (SELECT contact_id FROM {selected})",
        {"at": moment},
    )
    return changed or 0


# Custom fields ------------------------------------------------------------------------------------------------


def _clean_options(options: list[str] | None) -> list[str]:
    return list(dict.fromkeys(option.strip() for option in options or [] if option.strip()))


@writes("fields.manage")
def define_custom_field(
    con: duckdb.DuckDBPyConnection,
    key: str,
    label: str,
    type: str,
    options: list[str] | None = None,
    is_identity: bool = False,
    *,
    actor: str,
) -> CustomField:
    """Add a custom field; the key is lower-case letters, digits and underscores."""
    if not _KEY.match(key) or key in SYSTEM_FIELD_BY_KEY or key in RESERVED_KEYS:
        raise ContactsError(
            "A field key starts with a letter and has only lower-case letters, digits and underscores, "
            "and is not a system field.",
            field="key",
        )
    if type not in CUSTOM_FIELD_TYPES:
        raise ContactsError(f"A field type is one of {', '.join(CUSTOM_FIELD_TYPES)}.", field="type")
    if not label.strip():
        raise ContactsError("Enter the field's label.", field="label")
    if is_identity and type not in IDENTITY_FIELD_TYPES:
        raise ContactsError("Only text and number fields can identify a contact.", field="identity")
    choices = _clean_options(options)
    if type == "dropdown" and not choices:
        raise ContactsError("A dropdown needs at least one option.", field="options")
    with transaction(con):
        if scalar(con, "SELECT count(*) FROM custom_fields WHERE key = ?", [key]):
            raise ContactsError(f"There is already a custom field '{key}'.", field="key")
        position = scalar(con, "SELECT coalesce(max(position), 0) + 1 FROM custom_fields")
        con.execute(
            "INSERT INTO custom_fields VALUES (?, ?, ?, ?, ?, ?)",
            [key, label.strip(), type, choices, is_identity, position],
        )
        add_value_column(con, key)
        log_workspace_change(con, actor, "custom field added", {"key": key, "type": type, "options": choices})
    return CustomField(
        key=key, label=label.strip(), type=type, options=choices, is_identity=is_identity, position=position
    )


@writes("fields.manage")
def rename_custom_field(con: duckdb.DuckDBPyConnection, key: str, label: str, actor: str) -> None:
    """Change a custom field's label (its key, used in filters and the CLI, stays)."""
    if not label.strip():
        raise ContactsError("Enter the field's label.", field="label")
    with transaction(con):
        before = _custom_field(con, key).label
        con.execute("UPDATE custom_fields SET label = ? WHERE key = ?", [label.strip(), key])
        log_workspace_change(con, actor, "custom field renamed", {"key": key, "before": before, "after": label})


def option_usage(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, int]:
    """How many contacts hold each value of a custom field."""
    column = value_column(key)
    return dict(rows(con, f"SELECT {column}, count(*) FROM custom_values WHERE {column} IS NOT NULL GROUP BY 1"))


@writes("fields.manage")
def set_dropdown_options(
    con: duckdb.DuckDBPyConnection,
    key: str,
    options: list[str],
    actor: str,
    replacements: dict[str, str | None] | None = None,
) -> dict[str, int]:
    """Set a dropdown's options; a removed option still in use must be mapped in `replacements` to a kept
    option (or None: the value is cleared). Returns how many contacts each mapping changed."""
    choices, mapping = _clean_options(options), replacements or {}
    if not choices:
        raise ContactsError("A dropdown needs at least one option.", field="options")
    with transaction(con):
        field = _custom_field(con, key)
        if field.type != "dropdown":
            raise ContactsError(f"'{field.label}' is not a dropdown.", field="options")
        used = {value: count for value, count in option_usage(con, key).items() if value not in choices}
        unmapped = [f"{value} ({count:,} contacts)" for value, count in used.items() if value not in mapping]
        if unmapped:
            raise ContactsError(f"Options still in use: {', '.join(unmapped)}; map each to another.", "options")
        bad = [target for target in mapping.values() if target is not None and target not in choices]
        if bad:
            raise ContactsError(f"Map removed options to a kept option, not {', '.join(bad)}.", field="options")
        moved = {value: _map_value(con, key, value, mapping[value], actor) for value in used}
        con.execute("UPDATE custom_fields SET options = ? WHERE key = ?", [choices, key])
        log_workspace_change(
            con, actor, "dropdown options changed", {"key": key, "before": field.options, "after": choices} | moved
        )
    return moved


def _map_value(con: duckdb.DuckDBPyConnection, key: str, value: str, target: str | None, actor: str) -> int:
    column = value_column(key)
    with scratch(con, f"SELECT contact_id FROM custom_values WHERE {column} = ?", [value]) as selected:
        changed = _rewrite_contacts(con, selected, actor, f"custom.{key}", value, target)
        con.execute(f"UPDATE custom_values SET {column} = ? WHERE {column} = ?", [target, value])
        refresh_custom_terms(con, selected)  # the search index's words of the value mapped
    return changed


@writes("fields.manage")
def reorder_custom_fields(con: duckdb.DuckDBPyConnection, keys: list[str], actor: str) -> None:
    """Put the custom fields in this order (every field once)."""
    with transaction(con):
        known = [field.key for field in custom_fields(con)]
        if sorted(keys) != sorted(known):
            raise ContactsError("List every custom field once to reorder them.", field="order")
        con.execute("UPDATE custom_fields SET position = list_position($keys, key)", {"keys": list(keys)})
        log_workspace_change(con, actor, "custom fields reordered", {"order": keys})


@writes("fields.manage")
def set_identity_fields(con: duckdb.DuckDBPyConnection, keys: list[str], actor: str) -> list[str]:
    """Mark which custom fields identify a person (the others are unmarked): duplicate detection blocks on
    them and weighs a match heavily. Admins only; the next detection run uses them."""
    fields = {field.key: field for field in custom_fields(con)}
    wanted = list(dict.fromkeys(keys))
    unknown = [key for key in wanted if key not in fields]
    if unknown:
        raise ContactsError(f"Unknown custom field(s): {', '.join(unknown)}.", field="identity")
    wrong = [fields[key].label for key in wanted if fields[key].type not in IDENTITY_FIELD_TYPES]
    if wrong:
        raise ContactsError(f"Only text and number fields can identify a contact, not {', '.join(wrong)}.", "identity")
    with transaction(con):
        con.execute("UPDATE custom_fields SET is_identity = list_contains($keys, key)", {"keys": wanted})
        log_workspace_change(con, actor, "identity fields chosen", {"keys": wanted})
    return wanted


def custom_field_usage(con: duckdb.DuckDBPyConnection, key: str) -> int:
    """How many contacts hold a value of this custom field."""
    return scalar(con, f"SELECT count({value_column(key)}) FROM custom_values") or 0


@writes("fields.manage")
def delete_custom_field(con: duckdb.DuckDBPyConnection, key: str, typed_name: str, actor: str) -> int:
    """Delete a custom field and its values once the caller typed its label (or key); how many contacts lost one."""
    with transaction(con):
        field = _custom_field(con, key)
        if typed_name.strip() not in (field.label, field.key):
            raise ContactsError(f"Type the field's name, {field.label}, to delete it.", field="confirm")
        holding = f"SELECT contact_id FROM custom_values WHERE {value_column(key)} IS NOT NULL"
        with scratch(con, holding) as selected:
            changed = _rewrite_contacts(con, selected, actor, f"custom.{key}", "(field deleted)", None)
            drop_value_column(con, key)
            con.execute("DELETE FROM custom_fields WHERE key = ?", [key])
            refresh_custom_terms(con, selected)  # the search index forgets the field's words
        log_workspace_change(con, actor, "custom field deleted", {"key": key, "contacts": changed})
    return changed


# Lead stages --------------------------------------------------------------------------------------------------


def _stage_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 60:
        raise ContactsError("A lead stage has a name of 1 to 60 characters.", field="stage")
    return cleaned


def _require_stage(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if name not in lead_stages(con):
        raise ContactsError(f"There is no lead stage '{name}'.", field="stage")


@writes("stages.manage")
def add_lead_stage(con: duckdb.DuckDBPyConnection, name: str, actor: str) -> None:
    """Add a lead stage at the end of the pipeline."""
    stage = _stage_name(name)
    with transaction(con):
        if stage in lead_stages(con):
            raise ContactsError(f"There is already a stage '{stage}'.", field="stage")
        con.execute("INSERT INTO lead_stages SELECT ?, coalesce(max(position), 0) + 1 FROM lead_stages", [stage])
        log_workspace_change(con, actor, "lead stage added", {"stage": stage})


def _move_stage(con: duckdb.DuckDBPyConnection, old: str, new: str, actor: str) -> int:
    with scratch(con, "SELECT contact_id FROM contacts WHERE lead_stage = ?", [old]) as selected:
        moved = _rewrite_contacts(con, selected, actor, "lead_stage", old, new)
        con.execute(
            f"UPDATE contacts SET lead_stage = ? WHERE contact_id IN (SELECT contact_id FROM {selected})", [new]
        )
    return moved


@writes("stages.manage")
def rename_lead_stage(con: duckdb.DuckDBPyConnection, name: str, new_name: str, actor: str) -> int:
    """Rename a lead stage; its contacts follow (each logged). How many contacts moved."""
    stage = _stage_name(new_name)
    with transaction(con):
        _require_stage(con, name)
        if stage != name and stage in lead_stages(con):
            raise ContactsError(f"There is already a stage '{stage}'.", field="stage")
        position = scalar(con, "SELECT position FROM lead_stages WHERE name = ?", [name])
        con.execute("DELETE FROM lead_stages WHERE name = ?", [name])
        con.execute("INSERT INTO lead_stages VALUES (?, ?)", [stage, position])
        moved = _move_stage(con, name, stage, actor)
        log_workspace_change(con, actor, "lead stage renamed", {"before": name, "after": stage, "contacts": moved})
    return moved


@writes("stages.manage")
def reorder_lead_stages(con: duckdb.DuckDBPyConnection, names: list[str], actor: str) -> None:
    """Put the lead stages in this pipeline order (every stage once)."""
    with transaction(con):
        if sorted(names) != sorted(lead_stages(con)):
            raise ContactsError("List every lead stage once to reorder them.", field="order")
        con.execute("UPDATE lead_stages SET position = list_position($names, name)", {"names": list(names)})
        log_workspace_change(con, actor, "lead stages reordered", {"order": names})


def stage_usage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many contacts are at each stage."""
    return dict(rows(con, "SELECT lead_stage, count(*) FROM contacts GROUP BY lead_stage"))


@writes("stages.manage")
def delete_lead_stage(con: duckdb.DuckDBPyConnection, name: str, move_to: str, actor: str) -> int:
    """Delete a lead stage, moving its contacts to `move_to` (each logged); how many moved."""
    with transaction(con):
        _require_stage(con, name)
        _require_stage(con, move_to)
        if move_to == name:
            raise ContactsError("Move the contacts to another stage.", field="stage")
        moved = _move_stage(con, name, move_to, actor)
        con.execute("DELETE FROM lead_stages WHERE name = ?", [name])
        log_workspace_change(con, actor, "lead stage deleted", {"stage": name, "moved_to": move_to, "contacts": moved})
    return moved


# Table columns (each user's own) ------------------------------------------------------------------------------


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


@writes("preferences.own", actor="user")
def set_table_columns(con: duckdb.DuckDBPyConnection, user: str, columns: list[str]) -> None:
    """Keep a user's choice of table columns and their order."""
    known = column_choices(con)
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ContactsError(f"Unknown field(s): {', '.join(unknown)}.", field="columns")
    if not columns:
        raise ContactsError("Choose at least one field to show.", field="columns")
    value: Any = json.dumps(list(dict.fromkeys(columns)))
    con.execute(
        "INSERT INTO user_preferences VALUES (?, 'table_columns', ?) "
        "ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value",
        [user, value],
    )


def tag_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every tag in use, alphabetically."""
    return [tag for (tag,) in rows(con, "SELECT DISTINCT unnest(tags) AS tag FROM contacts ORDER BY tag")]


# Settings -----------------------------------------------------------------------------------------------------


def _set(con: duckdb.DuckDBPyConnection, key: str, value: str, actor: str) -> None:
    with transaction(con):
        before = scalar(con, "SELECT value FROM settings WHERE key = ?", [key])
        con.execute(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]
        )
        log_workspace_change(con, actor, "setting changed", {"setting": key, "before": before, "after": value})


@writes("settings.manage")
def set_default_country(con: duckdb.DuckDBPyConnection, country: str, actor: str) -> None:
    """Set the country assumed for phone numbers written without a country code (ISO code, e.g. 'GB')."""
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError(f"'{country}' is not a country code phone numbers know (e.g. US, GB, DE).", field="country")
    _set(con, "default_country", code, actor)


@writes("settings.manage")
def set_session_idle_minutes(con: duckdb.DuckDBPyConnection, minutes: int, actor: str) -> None:
    """After how many idle minutes a signed-in session ends."""
    low, high = SESSION_IDLE_RANGE
    if not low <= int(minutes) <= high:
        raise ContactsError(f"Choose between {low} and {high:,} minutes.", field="idle")
    _set(con, "session_idle_minutes", str(int(minutes)), actor)


@writes("settings.ingest_token")
def rotate_ingest_token(con: duckdb.DuckDBPyConnection, actor: str) -> str:
    """Replace the kept ingest token with a new one (the old one is refused at once); the new token."""
    token = _rotate_token()
    with transaction(con):
        log_workspace_change(con, actor, "ingest token rotated", {})
    return token
