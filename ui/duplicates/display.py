"""Values, contacts and merge previews as people read them, in tables whose rows mark where contacts differ."""

from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.validation import blank
from core.duplicates.merge_plan import MergePreview

DIFFERS = "≠"
COLUMNS = {  # column_config for the side-by-side and preview tables
    "Field": st.column_config.TextColumn("Field", width="medium"),
    DIFFERS: st.column_config.TextColumn(DIFFERS, width=40, help="The contacts hold different values"),
}
ROW_HEIGHT = 35  # Streamlit's default: a table this tall shows every row without scrolling
HIGHLIGHT = "background-color: rgba(255, 189, 69, 0.25)"
# Shown side by side but not worth a row: the header names the contact, and these say nothing when false.
_NOT_A_ROW = {"contact_id", "name_generated", "blocked"}
MOVED = {  # what moves, one and many
    "conversations": ("conversation", "conversations"),
    "messages": ("message", "messages"),
    "tickets": ("ticket", "tickets"),
    "notes": ("note", "notes"),
    "media": ("media file", "media files"),
    "activity": ("activity entry", "activity entries"),
}


def label(contact: Contact) -> str:
    """How a contact is named in lists and headers: its name and its ID."""
    return f"{contact.display_name} · {contact.contact_id}"


def text(value: Any, owners: dict[str, str] | None = None, key: str = "") -> str:
    """A value as people read it: lists joined, times to the minute, owners by name, blank as ''."""
    if blank(value):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "owner_id" and owners:
        return owners.get(value, value)
    return str(value)


def moves_sentence(moves: dict[str, int]) -> str:
    """'Moves to the primary: 3 conversations, 1 ticket, …' (nothing when nothing moves)."""
    parts = [f"{n:,} {MOVED.get(kind, (kind, kind))[n != 1]}" for kind, n in moves.items() if n]
    return "Moves to the primary: " + ", ".join(parts) + "." if parts else "No records move: the secondaries have none."


def full_height(rows: int) -> int:
    """A table height that shows every row (the header included) without an inner scroll bar."""
    return ROW_HEIGHT * (rows + 1) + 3


def _highlighted(table: pd.DataFrame) -> Styler:
    """Rows whose values differ get a background; the ≠ column says the same for screen readers and tests."""
    marked = table.assign(**{DIFFERS: table[DIFFERS].map({True: DIFFERS, False: ""})})
    return marked.style.apply(lambda row: [HIGHLIGHT if row[DIFFERS] else ""] * len(row), axis=1)


def side_by_side(contacts: list[Contact], custom_labels: dict[str, str], owners: dict[str, str]) -> Styler:
    """One column per contact, one row per field any of them holds; rows where they differ are marked."""
    headers = [label(contact) for contact in contacts]
    fields = [(f.key, f.label, lambda c, k=f.key: getattr(c, k)) for f in SYSTEM_FIELDS if f.key not in _NOT_A_ROW]
    stray = {key: key for c in contacts for key in c.custom if key not in custom_labels}
    fields += [(key, name, lambda c, k=key: c.custom.get(k)) for key, name in (custom_labels | stray).items()]
    records = []
    for key, name, read in fields:
        values = [text(read(contact), owners, key) for contact in contacts]
        if any(values):
            records.append({"Field": name, DIFFERS: len(set(values)) > 1, **dict(zip(headers, values, strict=True))})
    return _highlighted(pd.DataFrame.from_records(records, columns=["Field", DIFFERS, *headers]))


def _source_name(source_id: str | None, names: dict[str, str]) -> str:
    """The name of the contact a merged value comes from (its ID if it is not named); blank if none."""
    if source_id is None:
        return ""
    return names.get(source_id, source_id)


def preview_table(preview: MergePreview, names: dict[str, str], owners: dict[str, str]) -> Styler:
    """The merged contact field by field: the value, the contact it comes from, how it was chosen."""
    records = [
        {
            "Field": field.label,
            DIFFERS: field.differs,
            "Merged value": text(field.value, owners, field.key)
            if field.key != "last_updated"
            else "time of the merge",
            "From": "every contact" if field.key == "tags" else _source_name(field.source_id, names),
            "Rule": field.rule,
        }
        for field in preview.fields
        if field.differs or not (blank(field.value) or field.value is False)
    ]
    return _highlighted(pd.DataFrame.from_records(records, columns=["Field", DIFFERS, "Merged value", "From", "Rule"]))
