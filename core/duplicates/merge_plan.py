"""Which value a merged contact keeps, field by field, and the preview that shows where each value comes from.

One table, RULES, decides. The preview applies it in Python to the contacts it is given; the merge
(core.duplicates.merge) applies it as SQL aggregates over every group at once. Secondaries are ranked
(1, 2, ...) and the lowest-ranked contact with a value wins a blank, the primary being rank 0.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import duckdb
from pydantic import BaseModel

from core.contacts.fields import SYSTEM_FIELD_BY_KEY, SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.records import load_contacts
from core.contacts.validation import blank, custom_fields
from core.db import rows
from core.errors import ContactsError

MAX_MERGE = 25
MOVED_TABLES = ("conversations", "messages", "tickets", "notes", "media", "activity")

Rule = Literal["primary", "fill", "name", "union", "earliest", "latest", "merge time"]
# How a merged system field is chosen when not filled from the first contact that has it ("fill"). Blocked
# status and subscriptions stay the primary's (the guide: "subscription: mainly based on the primary");
# the times of events span all the contacts.
SPECIAL_RULES: dict[str, Rule] = {
    **dict.fromkeys(("first_name", "last_name", "name_generated"), "name"),
    **dict.fromkeys(("lead_stage", "source", "email_subscription", "sms_subscription"), "primary"),
    **dict.fromkeys(("blocked", "blocked_on"), "primary"),
    "tags": "union",
    "created_on": "earliest",
    "last_contacted": "latest",
    "last_seen": "latest",
    "last_updated": "merge time",
}
# Every system field but the contact ID, in display order.
RULES: dict[str, Rule] = {f.key: SPECIAL_RULES.get(f.key, "fill") for f in SYSTEM_FIELDS if f.key != "contact_id"}
RULE_TEXT: dict[Rule, str] = {
    "primary": "the primary's",
    "fill": "the primary's, else the first secondary's that is not blank",
    "name": "the first real name, primary first; a generated name only when no contact has a real one",
    "union": "every contact's tags",
    "earliest": "the earliest of all",
    "latest": "the latest of all",
    "merge time": "the time of the merge",
}
# Filled together from one contact, so a phone keeps the form it was entered in and a social ID its channel.
TOGETHER = {"phone": ("phone", "phone_raw"), "channel": ("channel", "social_id")}
TOGETHER |= {partner: keys for keys in list(TOGETHER.values()) for partner in keys}


class MergedField(BaseModel):
    """One row of the preview: a field's merged value and the contact it came from."""

    key: str  # system field key, or "custom.<key>"
    label: str
    value: Any  # None when every contact is blank
    source_id: str | None  # None when the value is blank
    differs: bool  # the contacts hold more than one distinct non-blank value
    rule: str = ""  # how the value is chosen, for the page to show


class MergePreview(BaseModel):
    """The merged contact field by field, what moves to the primary, and the versions the merge must find."""

    primary_id: str
    secondary_ids: list[str]
    fields: list[MergedField]
    tags: list[str]
    created_on: datetime
    moves: dict[str, int]
    versions: dict[str, int]
    additional_emails: list[str] = []  # every member's emails but the merged one: the primary keeps them all
    additional_phones: list[str] = []


def _filled(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    """The value from the first contact holding any of the fields filled with `key` (itself, if not blank)."""
    keys = TOGETHER.get(key, (key,))
    source = next((c for c in contacts if any(not blank(getattr(c, k)) for k in keys)), None)
    value = getattr(source, key) if source else None
    return (None, None) if blank(value) else (value, source)


def _has_name(contact: Contact) -> bool:
    return not blank(contact.first_name) or not blank(contact.last_name)


def _named(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    """A generated name is a placeholder, as channels treats it: any real name beats it, primary's first."""
    real = [c for c in contacts if not c.name_generated]
    if any(_has_name(c) for c in real):
        if key == "name_generated":
            return False, next(c for c in real if _has_name(c))
        return _filled(real, key)
    source = next((c for c in contacts if c.name_generated and _has_name(c)), None)
    if key == "name_generated":
        return (True, source) if source else (False, None)
    value = getattr(source, key) if source else None
    return (None, None) if blank(value) else (value, source)


def _primary(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    value = getattr(contacts[0], key)
    return value, None if blank(value) else contacts[0]


def _union(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    tags = list(dict.fromkeys(tag for contact in contacts for tag in contact.tags))
    return tags, contacts[0] if tags else None


def _extreme(pick: Callable) -> Callable[[list[Contact], str], tuple[Any, Contact | None]]:
    def chosen(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
        dated = [c for c in contacts if getattr(c, key) is not None]
        source = pick(dated, key=lambda c: getattr(c, key)) if dated else None  # ties: the first listed
        return (getattr(source, key), source) if source else (None, None)

    return chosen


CHOOSERS: dict[Rule, Callable[[list[Contact], str], tuple[Any, Contact | None]]] = {
    "primary": _primary,
    "fill": _filled,
    "name": _named,
    "union": _union,
    "earliest": _extreme(min),
    "latest": _extreme(max),
    "merge time": lambda contacts, key: (None, None),
}


def _differs(values: list[Any]) -> bool:
    distinct = {frozenset(v) if isinstance(v, list) else v for v in values if not blank(v)}
    return len(distinct) > 1


def _system_field(contacts: list[Contact], key: str) -> MergedField:
    rule = RULES[key]
    value, source = CHOOSERS[rule](contacts, key)
    return MergedField(
        key=key,
        label=SYSTEM_FIELD_BY_KEY[key].label,
        value=value,
        source_id=source.contact_id if source else None,
        differs=_differs([getattr(c, key) for c in contacts]),
        rule=RULE_TEXT[rule],
    )


def _custom_field(contacts: list[Contact], key: str, label: str) -> MergedField:
    source = next((c for c in contacts if not blank(c.custom.get(key))), None)
    return MergedField(
        key=f"custom.{key}",
        label=label,
        value=source.custom[key] if source else None,
        source_id=source.contact_id if source else None,
        differs=_differs([c.custom.get(key) for c in contacts]),
        rule=RULE_TEXT["fill"],
    )


def _kept_channels(fields: list[MergedField], channels: dict[str, list[str]], kind: str) -> list[str]:
    """Every contact's emails (or phones) that are not the merged primary one: kept as additional values."""
    merged = next((field.value for field in fields if field.key == kind), None)
    return [v for v in dict.fromkeys(channels.get(kind, [])) if v and v != merged]


def plan_merge(
    primary: Contact,
    secondaries: list[Contact],
    moves: dict[str, int],
    labels: dict[str, str],
    channels: dict[str, list[str]] | None = None,
) -> MergePreview:
    """Pure: the merged contact field by field with where each value came from.

    Secondaries fill blanks in the order given; `labels` names the custom fields (key -> label) in display order;
    `channels` holds every email and phone of the contacts (primary ones and additional, in rank order).
    """
    contacts = [primary, *secondaries]
    stray = {key: key for c in contacts for key in c.custom if key not in labels}  # values of a removed field
    fields = [_system_field(contacts, key) for key in RULES]
    if channels is None:
        channels = {kind: [getattr(c, kind) for c in contacts if getattr(c, kind)] for kind in ("email", "phone")}
    fields += [_custom_field(contacts, key, label) for key, label in (labels | stray).items()]
    return MergePreview(
        primary_id=primary.contact_id,
        secondary_ids=[c.contact_id for c in secondaries],
        fields=fields,
        tags=_union(contacts, "tags")[0],
        created_on=min(c.created_on for c in contacts),
        moves=moves,
        versions={c.contact_id: c.version for c in contacts},
        additional_emails=_kept_channels(fields, channels, "email"),
        additional_phones=_kept_channels(fields, channels, "phone"),
    )


def recent_first(secondaries: list[Contact]) -> list[Contact]:
    """Secondaries in merge_groups' order: most recently updated first, ties by contact ID."""
    by_id = sorted(secondaries, key=lambda c: c.contact_id)
    return sorted(by_id, key=lambda c: c.last_updated, reverse=True)  # a stable sort keeps the ID order of ties


def checked_ids(primary_id: str, secondary_ids: list[str]) -> list[str]:
    """The secondaries, duplicates collapsed; refuses a set that cannot be merged."""
    if blank(primary_id):
        raise ContactsError("Choose the primary contact the others merge into.", field="primary_id")
    secondaries = list(dict.fromkeys(secondary_ids))
    if primary_id in secondaries:
        raise ContactsError(
            f"Contact '{primary_id}' is the primary; it cannot also be a secondary.", field="secondary_ids"
        )
    count = len(secondaries) + 1
    if count < 2:
        raise ContactsError("Choose at least 2 contacts to merge.", field="secondary_ids")
    if count > MAX_MERGE:
        raise ContactsError(
            f"At most {MAX_MERGE} contacts can be merged at one time; {count} were chosen.", field="secondary_ids"
        )
    return secondaries


def require_found(wanted: list[str], found: set[str], error: type[ContactsError] = ContactsError) -> None:
    """Refuse, naming them, the wanted contact IDs that were not found."""
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        named = ", ".join(f"'{contact_id}'" for contact_id in missing)
        raise error(f"No contact with ID {named} exists; it may have been deleted or merged.", field="contact_id")


def _load_contacts(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, Contact]:
    """The contacts with these IDs; a clear error naming any that no longer exists."""
    found = load_contacts(con, ids)
    require_found(ids, set(found))
    return found


def _move_counts(con: duckdb.DuckDBPyConnection, secondary_ids: list[str]) -> dict[str, int]:
    counts = " UNION ALL ".join(
        f"SELECT '{table}', count(*) FROM {table} WHERE contact_id IN (SELECT unnest($ids))" for table in MOVED_TABLES
    )
    return dict(rows(con, counts, {"ids": secondary_ids}))


def preview_merge(
    con: duckdb.DuckDBPyConnection,
    primary_id: str,
    secondary_ids: list[str],
    order: Literal["given", "recent"] = "given",
) -> MergePreview:
    """What merging these contacts would give; `order="recent"` ranks secondaries as merge_groups does."""
    secondaries = checked_ids(primary_id, secondary_ids)
    contacts = _load_contacts(con, [primary_id, *secondaries])
    ranked = [contacts[contact_id] for contact_id in secondaries]
    if order == "recent":
        ranked = recent_first(ranked)
    labels = {field.key: field.label for field in custom_fields(con)}
    channels = _channels(con, [contacts[primary_id], *ranked])
    return plan_merge(contacts[primary_id], ranked, _move_counts(con, secondaries), labels, channels)


def _channels(con: duckdb.DuckDBPyConnection, ranked: list[Contact]) -> dict[str, list[str]]:
    """Each contact's primary email and phone, then its additional ones, contact by contact in rank order."""
    extra = rows(
        con,
        "SELECT contact_id, kind, value FROM contact_channels WHERE contact_id IN (SELECT unnest($ids)) "
        "ORDER BY position",
        {"ids": [c.contact_id for c in ranked]},
    )
    found: dict[str, list[str]] = {"email": [], "phone": []}
    for contact in ranked:
        for kind in ("email", "phone"):
            own = getattr(contact, kind)
            found[kind] += ([own] if own else []) + [
                v for cid, k, v in extra if cid == contact.contact_id and k == kind
            ]
    return found
