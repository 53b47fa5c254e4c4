"""A contact's additional emails and phones (table contact_channels): read, and replaced as one edit.

The primary email and phone stay in contacts.email / contacts.phone; these are the others, each normalised
by the field's rule, with an optional label (work, home, mobile...) and a position.
"""

from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel

from core.accounts.permissions import writes
from core.contacts.activity import changes_json, now, record_activity
from core.contacts.records import SAVE_CONFLICT, get_contact
from core.contacts.rules import EMAIL, check_one
from core.contacts.validation import system_rule
from core.db import conflicts_as_stale, frame, scalar, scratch, transaction
from core.errors import ContactsError, StaleContactError
from core.views.search_index import refresh_search_index

Kind = Literal["email", "phone"]
KINDS: tuple[Kind, ...] = ("email", "phone")
LABELS = ("", "work", "home", "mobile", "other", "fax")
MAX_CHANNELS = 50


class Channel(BaseModel):
    """One additional email or phone."""

    value: str
    label: str | None = None


def contact_channels(con: duckdb.DuckDBPyConnection, contact_id: str, kind: Kind) -> list[Channel]:
    """The contact's additional emails (or phones), in their order."""
    rows = frame(
        con,
        "SELECT value, label FROM contact_channels WHERE contact_id = $id AND kind = $kind ORDER BY position",
        {"id": contact_id, "kind": kind},
    )
    return [Channel(**row) for row in rows.to_dicts()]


def _checked(con: duckdb.DuckDBPyConnection, kind: Kind, items: list[Channel], primary: str | None) -> list[Channel]:
    """The items normalised by the field's rule, blanks and repeats (and the primary value) left out."""
    rule = EMAIL if kind == "email" else system_rule(con, "phone")
    label = "Email" if kind == "email" else "Phone"
    kept: dict[str, Channel] = {}
    for item in items:
        if not item.value.strip():
            continue
        value = check_one(rule, item.value, label, f"additional_{kind}s")
        if value and value != primary and value not in kept:
            kept[value] = Channel(value=value, label=(item.label or "").strip() or None)
    if len(kept) > MAX_CHANNELS:
        raise ContactsError(f"A contact keeps at most {MAX_CHANNELS} additional {kind}s.", field=f"additional_{kind}s")
    return list(kept.values())


@writes("contacts.update", contact="contact_id")
def set_contact_channels(
    con: duckdb.DuckDBPyConnection,
    contact_id: str,
    kind: Kind,
    items: list[Channel],
    expected_version: int,
    actor: str,
) -> list[Channel]:
    """Replace the contact's additional emails (or phones) with `items`: one edit, its version bumped and logged."""
    current = get_contact(con, contact_id)
    wanted = _checked(con, kind, items, getattr(current, kind))
    with conflicts_as_stale(SAVE_CONFLICT), transaction(con):
        before = contact_channels(con, contact_id, kind)
        if before == wanted:
            return before
        updated = scalar(
            con,
            "UPDATE contacts SET version = version + 1, last_updated = $now WHERE contact_id = $id AND version = $v",
            {"now": now(), "id": contact_id, "v": expected_version},
        )
        if not updated:
            raise StaleContactError(SAVE_CONFLICT)
        con.execute("DELETE FROM contact_channels WHERE contact_id = ? AND kind = ?", [contact_id, kind])
        if wanted:
            rows = pl.DataFrame(
                {
                    "value": [c.value for c in wanted],
                    "label": [c.label for c in wanted],
                    "position": list(range(1, len(wanted) + 1)),
                },
                schema={"value": pl.String, "label": pl.String, "position": pl.Int32},
            )
            with scratch(con, rows) as given:
                con.execute(
                    f"INSERT INTO contact_channels SELECT $id, $kind, value, label, position FROM {given}",
                    {"id": contact_id, "kind": kind},
                )
        refresh_search_index(con, [contact_id], custom_values=False)
        field = f"additional_{kind}s"
        shown = [", ".join(c.value + (f" ({c.label})" if c.label else "") for c in found) for found in (before, wanted)]
        record_activity(con, contact_id, actor, "updated", changes_json({field: shown[0]}, {field: shown[1]}))
    return wanted
