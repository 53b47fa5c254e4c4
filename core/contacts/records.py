"""Create, read, update, block and delete contacts, each write in one transaction with activity."""

import json
import os
import uuid
from typing import Any

import duckdb
import numpy as np
import polars as pl

from core.accounts.permissions import writes
from core.contacts.activity import changes_json, now, record_activity, record_bulk_activity
from core.contacts.custom_values import read_values, write_values
from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.models import Contact, ContactInput, CustomField
from core.contacts.validation import blank, clean_contact_id, clean_custom_value, clean_system_value, custom_fields
from core.db import Scratch, conflicts_as_stale, frame, rows, scalar, scratch, scratch_ids, transaction
from core.db.dialect import dialect
from core.errors import ContactsError, StaleContactError
from core.views.search_index import SEARCHED_FIELDS, refresh_custom_terms, refresh_search_index

RELATED_TABLES = (
    "conversations",
    "tickets",
    "notes",
    "media",
    "activity",
    "custom_values",
    "contact_channels",  # additional emails and phones
    "channel_identities",
    "channel_refusals",
    "merged_ids",  # IDs merged into this contact: a deleted contact is no longer where they lead
)
CONTACT_COLUMNS = [field.key for field in SYSTEM_FIELDS] + ["version"]
SAVE_CONFLICT = "Someone else changed this contact while you were saving. Reload and retry."
NOTE_CONFLICT = "The contact was changed or deleted while the note was being saved. Reload and retry."
BLOCK_CONFLICT = "A contact was changed by someone else meanwhile; nothing was changed. Try again."


def new_contact_id() -> str:
    """A fresh contact ID: 16 hex characters."""
    return uuid.uuid4().hex[:16]


def new_contact_ids(count: int) -> pl.Series:
    """`count` fresh contact IDs as new_contact_id makes them (16 random hex characters), made at once for a batch
    (an import of 1,000,000 rows) with no Python string per row."""
    hexed = np.frombuffer(os.urandom(8 * count).hex().encode(), dtype="S16").astype(str)
    return pl.Series(hexed, dtype=pl.String)


def _custom_by_key(con: duckdb.DuckDBPyConnection) -> dict[str, CustomField]:
    return {field.key: field for field in custom_fields(con)}


def _clean_custom(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> dict[str, str | None]:
    known = _custom_by_key(con)
    cleaned = {}
    for key, value in values.items():
        if key not in known:
            raise ContactsError(f"'{key}' is not a custom field.", field=f"custom.{key}")
        cleaned[key] = clean_custom_value(known[key], value)
    return cleaned


@writes("contacts.create")
def create_contact(con: duckdb.DuckDBPyConnection, data: ContactInput, actor: str, source: str = "manual") -> Contact:
    """Create a contact (stage Contact unless given); needs an email, a phone or a contact ID."""
    if blank(data.email) and blank(data.phone) and blank(data.contact_id):
        raise ContactsError("Enter at least one of email, phone or contact ID.", field="email")
    given = data.model_dump(exclude={"contact_id", "custom"}, exclude_none=True)
    given.setdefault("lead_stage", "Contact")
    values: dict[str, Any] = {}
    for key, value in given.items():
        values.update(clean_system_value(con, key, value))
    custom = _clean_custom(con, data.custom)
    contact_id = new_contact_id() if blank(data.contact_id) else clean_contact_id(data.contact_id or "")
    moment = now()
    values.update(contact_id=contact_id, source=source, created_on=moment, last_updated=moment)
    columns = list(values)
    with transaction(con):
        if scalar(con, "SELECT count(*) FROM contacts WHERE contact_id = ?", [contact_id]):
            raise ContactsError(f"A contact with ID '{contact_id}' already exists.", field="contact_id")
        con.execute(
            f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join('$' + c for c in columns)})",
            values,
        )
        write_values(con, contact_id, custom)
        refresh_search_index(con, [contact_id])
        stored = {k: v for k, v in values.items() if not blank(v)} | {
            f"custom.{k}": v for k, v in custom.items() if v is not None
        }
        record_activity(con, contact_id, actor, "created", changes_json({}, stored), at=moment)
    return get_contact(con, contact_id)


def find_contact(con: duckdb.DuckDBPyConnection, contact_id: str) -> Contact | None:
    """The contact with this ID, or None."""
    found = frame(con, f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts WHERE contact_id = ?", [contact_id])
    if found.is_empty():
        return None
    record = found.row(0, named=True)
    custom = read_values(con, [contact_id]).get(contact_id, {})
    return Contact(**record, custom=custom)


def load_contacts(con: duckdb.DuckDBPyConnection, contact_ids: list[str]) -> dict[str, Contact]:
    """The contacts with these IDs that exist, with their custom values, in two queries (missing IDs are left out)."""
    found = frame(
        con,
        f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts WHERE contact_id IN (SELECT unnest($ids))",
        {"ids": contact_ids},
    )
    custom = read_values(con, contact_ids)
    return {
        record["contact_id"]: Contact(**record, custom=custom.get(record["contact_id"], {}))
        for record in found.iter_rows(named=True)
    }


def get_contact(con: duckdb.DuckDBPyConnection, contact_id: str) -> Contact:
    """The contact with this ID; a clear error if it does not exist (any more)."""
    contact = find_contact(con, contact_id)
    if contact is None:
        raise StaleContactError(f"Contact '{contact_id}' does not exist; it may have been deleted.")
    return contact


@writes("contacts.update", contact="contact_id")
def update_contact(
    con: duckdb.DuckDBPyConnection,
    contact_id: str,
    changes: dict[str, Any],
    expected_version: int,
    actor: str,
) -> Contact:
    """Apply changes to fields (custom ones as 'custom.key') unless the contact moved on since
    `expected_version` was read: then nothing is written and StaleContactError says why."""
    if "contact_id" in changes and changes["contact_id"] != contact_id:
        raise ContactsError("A contact ID can never change.", field="contact_id")
    system = {k: v for k, v in changes.items() if not k.startswith("custom.") and k != "contact_id"}
    values: dict[str, Any] = {}
    for key, value in system.items():
        values.update(clean_system_value(con, key, value))
    custom = _clean_custom(con, {k.removeprefix("custom."): v for k, v in changes.items() if k.startswith("custom.")})
    with conflicts_as_stale(SAVE_CONFLICT), transaction(con):
        current = get_contact(con, contact_id)
        if current.version != expected_version:
            raise StaleContactError(
                "Someone else changed this contact since you opened it. "
                "Reload to see their changes, then make yours again."
            )
        before = current.model_dump() | {f"custom.{k}": v for k, v in current.custom.items()}
        after = {k: v for k, v in values.items() if before.get(k) != v}
        after |= {f"custom.{k}": v for k, v in custom.items() if before.get(f"custom.{k}") != v}
        if not after:
            return current
        system_after = {k: v for k, v in after.items() if not k.startswith("custom.")}
        assignments = ", ".join(f"{k} = ${k}" for k in system_after)
        # No RETURNING: DuckDB 2.0.1 skips its write-conflict check for UPDATE ... RETURNING, so a concurrent
        # write would be silently overwritten. A plain UPDATE answers with the number of rows it changed.
        updated = scalar(
            con,
            f"UPDATE contacts SET {assignments + ', ' if assignments else ''}"
            "version = version + 1, last_updated = $now "
            "WHERE contact_id = $contact_id AND version = $version",
            {**system_after, "now": now(), "contact_id": contact_id, "version": expected_version},
        )
        if not updated:
            raise StaleContactError(SAVE_CONFLICT)
        custom_after = {k.removeprefix("custom."): v for k, v in after.items() if k.startswith("custom.")}
        write_values(con, contact_id, custom_after)
        if SEARCHED_FIELDS.intersection(system_after):
            refresh_search_index(con, [contact_id], custom_values=bool(custom_after))
        elif custom_after:
            refresh_custom_terms(con, [contact_id])
        record_activity(con, contact_id, actor, "updated", changes_json(before, after))
    return get_contact(con, contact_id)


@writes("contacts.block")
def set_blocked(con: duckdb.DuckDBPyConnection, contact_ids: list[str], blocked: bool, actor: str) -> int:
    """Block or unblock contacts; returns how many changed. Their channel events are then refused."""
    action = "blocked" if blocked else "unblocked"
    with conflicts_as_stale(BLOCK_CONFLICT), transaction(con):
        changing = "SELECT contact_id FROM contacts WHERE contact_id IN (SELECT unnest($ids)) AND blocked <> $blocked"
        with scratch(con, changing, {"blocked": blocked, "ids": contact_ids}) as changed:
            # No RETURNING here either (see update_contact).
            con.execute(
                "UPDATE contacts SET blocked = $blocked, blocked_on = CASE WHEN $blocked THEN $now END, "
                f"version = version + 1, last_updated = $now WHERE contact_id IN (SELECT contact_id FROM {changed})",
                {"blocked": blocked, "now": now()},
            )
            record_bulk_activity(
                con, changed, actor, action, json.dumps({"blocked": {"before": not blocked, "after": blocked}})
            )
            count = scalar(con, f"SELECT count(*) FROM {changed}")
    return count


@writes("contacts.delete")
def delete_contacts(con: duckdb.DuckDBPyConnection, contact_ids: list[str], actor: str, typed_count: str | int) -> int:
    """Delete contacts and everything that belongs to them, once the caller typed their number.

    Irreversible; each deletion is logged in deletion_log with a snapshot of the contact.
    """
    wanted = list(dict.fromkeys(contact_ids))
    if str(typed_count).strip() != str(len(wanted)):
        raise ContactsError(f"Type {len(wanted)} to confirm deleting {len(wanted)} contact(s).", field="confirm")
    with scratch_ids(con, wanted) as selected, transaction(con):
        return delete_selected(con, selected, actor)


def related_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table whose rows belong to a contact (a `contact_id` column): RELATED_TABLES and any added since."""
    found = rows(con, *dialect(con).tables_with_column("contact_id"))
    added = [table for (table,) in found if table not in ("contacts", "deletion_log")]
    return list(dict.fromkeys([*RELATED_TABLES, *added]))


@writes("contacts.delete")
def delete_selected(con: duckdb.DuckDBPyConnection, selected: Scratch, actor: str) -> int:
    """Delete, set-based, the contacts whose IDs `selected` (column contact_id) holds and all that is theirs; logged.

    Run it inside the caller's transaction: one statement per table, related rows before the contacts
    (a scratch relation is materialised, so emptying the tables does not change what it holds).
    """
    # DuckDB 2.0.1 lets a transaction delete a row that another one changed meanwhile, and lets that other one
    # update a row this one deleted. Every writer bumps `version` or `touches` (an edit, a merge, an ingest, a
    # note): bumping both first makes either race a conflict for one of the two, never rows left behind.
    con.execute(
        "UPDATE contacts SET version = version + 1, touches = touches + 1 "
        f"WHERE contact_id IN (SELECT contact_id FROM {selected})"
    )
    con.execute(
        "INSERT INTO deletion_log SELECT $now, $actor, contact_id, "
        f"{dialect(con).row_json_without('c', ['touches', 'row_key'])} "
        f"FROM (SELECT * FROM contacts WHERE contact_id IN (SELECT contact_id FROM {selected})) c",
        {"now": now(), "actor": actor},
    )
    for table in related_tables(con):
        con.execute(f"DELETE FROM {table} WHERE contact_id IN (SELECT contact_id FROM {selected})")
    return scalar(con, f"DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM {selected})") or 0


@writes("contacts.note", actor="author")
def add_note(con: duckdb.DuckDBPyConnection, contact_id: str, body: str, author: str) -> None:
    """Add a note to a contact's timeline."""
    text = body.strip()
    if not text:
        raise ContactsError("A note cannot be empty.", field="note")
    if len(text) > 10_000:
        raise ContactsError("A note is at most 10,000 characters.", field="note")
    with conflicts_as_stale(NOTE_CONFLICT), transaction(con):
        get_contact(con, contact_id)
        # Touch the contact (see delete_selected): a delete running meanwhile then conflicts with this note.
        con.execute("UPDATE contacts SET touches = touches + 1 WHERE contact_id = ?", [contact_id])
        moment = now()
        con.execute(
            "INSERT INTO notes (contact_id, author, body, created_at) VALUES (?, ?, ?, ?)",
            [contact_id, author, text, moment],
        )
        record_activity(con, contact_id, author, "note added", None, at=moment)
