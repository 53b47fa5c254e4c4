"""Contacts created by the channels: Web Chat visitors and Inbox senders, their identities and conversations.

An ingest run reads every line first (core.channels.events), so a malformed line is reported and left
out whole. It then loads what the valid events refer to in a few set-based queries, replays the events
in order on dictionaries (a later event sees the contact an earlier one created), and writes the result
with a handful of bulk statements in one transaction: all of a run is applied, or none of it.
"""

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from pydantic import BaseModel, Field

from core.channels.events import InboxEvent, Malformed, ParsedEvent, WebChatEvent, parse_lines
from core.channels.names import generated_name
from core.contacts.activity import now
from core.contacts.validation import default_country
from core.db import frame, rows, scalar, transaction
from core.duplicates.merged_ids import merged_into

# A message within this long after the last one continues the conversation; a later one opens a new one.
CONVERSATION_GAP = timedelta(hours=24)
MAX_MALFORMED_KEPT = 1000
# Within a process (the app: its endpoint and its upload page), runs take turns: two runs touching the
# same contact at once would make DuckDB abort one of them with a conflict.
_ONE_RUN_AT_A_TIME = threading.Lock()
WEB_FIELDS = ("browser", "os", "device", "ip_address", "referrer", "utm_source", "utm_medium", "utm_campaign")
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "name_generated",
    "email",
    "phone",
    "phone_raw",
    *WEB_FIELDS,
    "first_visit_url",
)
LOADED_FIELDS = ("contact_id", "blocked", *PROFILE_FIELDS, "last_seen", "last_contacted")
NEW_CONTACT_FIELDS = (*LOADED_FIELDS, "lead_stage", "source", "channel", "social_id", "created_on", "last_updated")


class IngestReport(BaseModel):
    """What a run did: contacts created and updated, conversations, refusals and malformed lines."""

    events: int = 0
    created: int = 0
    updated: int = 0
    conversations_opened: int = 0
    conversations_continued: int = 0
    refused_blocked: int = 0
    malformed: list[dict[str, Any]] = Field(default_factory=list)
    run_id: int | None = None


@dataclass(slots=True)
class _Contact:
    """A contact as the run sees it: its stored values, then the events' changes."""

    values: dict[str, Any]
    existed: bool
    before: dict[str, Any] = field(default_factory=dict)
    touched: bool = False
    channels: set[str] = field(default_factory=set)
    new_identities: list[tuple[str, str]] = field(default_factory=list)
    refused: int = 0


@dataclass(slots=True)
class _Conversation:
    """A conversation the run opens or continues."""

    contact_id: str
    kind: str
    channel: str
    subject: str | None
    started_at: datetime
    last_message_at: datetime
    message_count: int
    conversation_id: int | None = None  # None until written: a conversation this run opened
    continued: bool = False


@dataclass
class _Run:
    """Everything a run has learnt and changed, keyed for lookups while replaying events."""

    contacts: dict[str, _Contact]
    identities: dict[tuple[str, str], str]
    by_email: dict[str, str]
    by_phone: dict[str, str]
    conversations: dict[tuple[str, str, str], _Conversation]
    merged: dict[str, str] = field(default_factory=dict)  # a merged-away cookie ID -> its primary
    opened: list[_Conversation] = field(default_factory=list)
    new_identities: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    used_identities: dict[tuple[str, str], datetime] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


def split_name(name: str) -> tuple[str, str | None]:
    """'Maria de la Cruz' → ('Maria', 'de la Cruz'); a single word is a first name."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip() or None


def chat_button_visible(con: duckdb.DuckDBPyConnection, cookie_contact_id: str | None) -> bool:
    """Whether the chat widget shows its button to the browser holding this cookie contact ID."""
    if not cookie_contact_id:
        return True
    contact_id = merged_into(con, [cookie_contact_id]).get(cookie_contact_id, cookie_contact_id)
    return not scalar(con, "SELECT blocked FROM contacts WHERE contact_id = ?", [contact_id])


# --- Loading what the events refer to: a few set-based queries ---


_VIEWS = (
    "wanted_identities",
    "wanted_contacts",
    "new_contacts",
    "touched_contacts",
    "new_identities",
    "seen_identities",
    "opened_conversations",
    "continued_conversations",
    "refused_contacts",
    "run_activity",
)


def _register(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame) -> None:
    """Expose a frame to SQL on this connection (one of _VIEWS, dropped when the run ends)."""
    con.register(name, data)


def _load_identities(con: duckdb.DuckDBPyConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    wanted = pl.DataFrame(list(keys), schema={"channel": pl.String, "social_id": pl.String}, orient="row")
    _register(con, "wanted_identities", wanted)
    # An identity whose contact is gone (deleted or merged away) counts as unknown, and is re-pointed.
    found = rows(
        con,
        "SELECT i.channel, i.social_id, i.contact_id FROM channel_identities i "
        "JOIN wanted_identities w USING (channel, social_id) JOIN contacts c USING (contact_id)",
    )
    return {(channel, social_id): contact_id for channel, social_id, contact_id in found}


def _first_by(con: duckdb.DuckDBPyConnection, column: str, values: set[str]) -> dict[str, str]:
    """The earliest-created contact per email (or phone): where a new Inbox identity attaches."""
    if not values:
        return {}
    found = rows(
        con,
        f"SELECT {column}, arg_min(contact_id, (created_on, contact_id)) FROM contacts "
        f"WHERE {column} IN (SELECT unnest($values)) GROUP BY {column}",
        {"values": sorted(values)},
    )
    return dict(found)


def _load_contacts(con: duckdb.DuckDBPyConnection, contact_ids: set[str]) -> dict[str, _Contact]:
    _register(
        con, "wanted_contacts", pl.DataFrame({"contact_id": sorted(contact_ids)}, schema={"contact_id": pl.String})
    )
    columns = ", ".join("c." + key for key in LOADED_FIELDS)
    # In storage order: the UPDATE that writes them back is many times faster in that order.
    loaded = frame(con, f"SELECT {columns} FROM contacts c JOIN wanted_contacts USING (contact_id) ORDER BY c.rowid")
    contacts = {
        record["contact_id"]: _Contact(values=record, existed=True, before=dict(record))
        for record in loaded.iter_rows(named=True)
    }
    for contact_id, channel in rows(
        con, "SELECT contact_id, channel FROM channel_identities JOIN wanted_contacts USING (contact_id)"
    ):
        if contact_id in contacts:  # identities left by a contact that is gone belong to no one
            contacts[contact_id].channels.add(channel)
    return contacts


def _load_conversations(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], _Conversation]:
    """The latest conversation not closed per contact, kind and channel, for the contacts loaded."""
    found = rows(
        con,
        "SELECT contact_id, kind, channel, subject, started_at, last_message_at, message_count, conversation_id "
        "FROM conversations JOIN wanted_contacts USING (contact_id) WHERE status <> 'closed' "
        "QUALIFY row_number() OVER (PARTITION BY contact_id, kind, channel "
        "ORDER BY last_message_at DESC, conversation_id DESC) = 1",
    )
    return {(row[0], row[1], row[2]): _Conversation(*row) for row in found}


def _load(con: duckdb.DuckDBPyConnection, events: list[ParsedEvent]) -> _Run:
    """Everything stored that the events may refer to."""
    inbox = [item for item in events if isinstance(item.event, InboxEvent)]
    identities = _load_identities(con, {(item.event.channel, item.event.social_id) for item in inbox})
    strangers = [item for item in inbox if (item.event.channel, item.event.social_id) not in identities]
    by_email = _first_by(con, "email", {item.email for item in strangers if item.email})
    by_phone = _first_by(con, "phone", {item.phone for item in strangers if item.phone})
    wanted = {item.contact_id for item in events if item.contact_id}
    merged = merged_into(con, wanted)
    wanted |= set(merged.values()) | set(identities.values()) | set(by_email.values()) | set(by_phone.values())
    wanted |= {_inbox_id(item.event) for item in strangers}
    contacts = _load_contacts(con, wanted)
    return _Run(contacts, identities, by_email, by_phone, _load_conversations(con), merged)


# --- Replaying the events in order ---


def _new_contact(run: _Run, contact_id: str, item: ParsedEvent, source: str, channel: str) -> _Contact:
    event = item.event
    if event.name:
        (first, last), generated = split_name(event.name), False
    elif isinstance(event, InboxEvent):
        # Named by the social ID until a real name arrives, which then replaces it.
        (first, last), generated = (event.social_id, None), True
    else:
        (first, last), generated = generated_name(contact_id), True
    values = dict.fromkeys(NEW_CONTACT_FIELDS)
    values |= {
        "contact_id": contact_id,
        "blocked": False,
        "first_name": first,
        "last_name": last,
        "name_generated": generated,
        "lead_stage": "Lead",
        "source": source,
        "channel": channel,
        "social_id": event.social_id if isinstance(event, InboxEvent) else None,
        "created_on": item.at,
    }
    if isinstance(event, WebChatEvent):
        values["first_visit_url"] = event.page_url or None
    contact = _Contact(values=values, existed=False)
    run.contacts[contact_id] = contact
    run.counts["created"] += 1
    return contact


def _apply_profile(run: _Run, contact: _Contact, item: ParsedEvent) -> None:
    """What an accepted event tells about its contact: name, email, phone, web details, times."""
    values, event = contact.values, item.event
    if event.name and values["name_generated"]:
        values["first_name"], values["last_name"] = split_name(event.name)
        values["name_generated"] = False
    if item.email and not values["email"]:
        values["email"] = item.email
        run.by_email.setdefault(item.email, values["contact_id"])
    if item.phone and not values["phone"]:
        values["phone"], values["phone_raw"] = item.phone, item.phone_raw
        run.by_phone.setdefault(item.phone, values["contact_id"])
    if isinstance(event, WebChatEvent):
        for key in WEB_FIELDS:
            if given := getattr(event, key):
                values[key] = given
        values["first_visit_url"] = values["first_visit_url"] or event.page_url or None
    if values["last_seen"] is None or item.at > values["last_seen"]:
        values["last_seen"] = item.at
    is_message = isinstance(event, InboxEvent) or event.text
    if is_message and (values["last_contacted"] is None or item.at > values["last_contacted"]):
        values["last_contacted"] = item.at
    if contact.existed and not contact.touched:
        contact.touched = True
        run.counts["updated"] += 1


def _converse(run: _Run, contact_id: str, kind: str, channel: str, item: ParsedEvent) -> None:
    """Continue the open conversation on this channel if it is recent, else open one."""
    at, key = item.at, (contact_id, kind, channel)
    current = run.conversations.get(key)
    if current is not None and at - current.last_message_at <= CONVERSATION_GAP:
        current.message_count += 1
        current.started_at = min(current.started_at, at)
        current.last_message_at = max(current.last_message_at, at)
        current.continued = current.conversation_id is not None
        run.counts["conversations_continued"] += 1
        return
    subject = item.event.subject if isinstance(item.event, InboxEvent) else None
    # The replaced conversation (if any) is left as it is: it stays in the contact's history.
    run.conversations[key] = _Conversation(contact_id, kind, channel, subject, at, at, 1)
    run.opened.append(run.conversations[key])
    run.counts["conversations_opened"] += 1


def _refuse(run: _Run, contact: _Contact) -> None:
    contact.refused += 1
    run.counts["refused_blocked"] += 1


def _webchat(run: _Run, item: ParsedEvent) -> None:
    contact_id = run.merged.get(item.contact_id, item.contact_id)
    contact = run.contacts.get(contact_id)
    if contact is not None and contact.values["blocked"]:
        _refuse(run, contact)
        return
    if contact is None:
        contact = _new_contact(run, contact_id, item, "web chat", "web")
    _apply_profile(run, contact, item)
    _converse(run, contact_id, "webchat", "web", item)


def _inbox_contact(run: _Run, item: ParsedEvent) -> str | None:
    """The contact a stranger's identity attaches to: same email, else same phone, if it has none on the channel."""
    for contact_id in (run.by_email.get(item.email or ""), run.by_phone.get(item.phone or "")):
        if contact_id is not None and item.event.channel not in run.contacts[contact_id].channels:
            return contact_id
    return None


def _inbox(run: _Run, item: ParsedEvent) -> None:
    event = item.event
    key = (event.channel, event.social_id)
    contact_id = run.identities.get(key) or _inbox_contact(run, item)
    contact = run.contacts.get(contact_id) if contact_id else None
    if contact is not None and contact.values["blocked"]:
        _refuse(run, contact)
        return
    if contact is None:
        # A contact made from this identity before keeps its derived ID, even if the identity was lost.
        contact = run.contacts.get(_inbox_id(event)) or _new_contact(
            run, _inbox_id(event), item, "inbox", event.channel
        )
        if contact.values["blocked"]:
            _refuse(run, contact)
            return
    if key not in run.identities:
        run.identities[key] = contact.values["contact_id"]
        run.new_identities[key] = (contact.values["contact_id"], item.at)
        contact.channels.add(event.channel)
        contact.new_identities.append((event.channel, event.social_id))
    run.used_identities[key] = max(item.at, run.used_identities.get(key, item.at))
    _apply_profile(run, contact, item)
    _converse(run, contact.values["contact_id"], "inbox", event.channel, item)


def _inbox_id(event: InboxEvent) -> str:
    """A new Inbox contact's ID, derived from its identity so that a replay finds the same contact."""
    return hashlib.blake2b(f"{event.channel}\x00{event.social_id}".encode(), digest_size=8).hexdigest()


# --- Writing the run: a few bulk statements ---


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...], schema: dict[str, Any]) -> pl.DataFrame:
    """A frame of these columns of the records (built column by column: much faster than row by row)."""
    return pl.DataFrame(
        {key: [record[key] for record in records] for key in columns},
        schema={key: schema.get(key, pl.String) for key in columns},
    )


_SCHEMA = {
    "blocked": pl.Boolean,
    "name_generated": pl.Boolean,
    "profile_changed": pl.Boolean,
    "last_seen": pl.Datetime("us"),
    "last_contacted": pl.Datetime("us"),
    "created_on": pl.Datetime("us"),
    "last_updated": pl.Datetime("us"),
    "started_at": pl.Datetime("us"),
    "last_message_at": pl.Datetime("us"),
    "first_seen": pl.Datetime("us"),
    "message_count": pl.Int64,
    "conversation_id": pl.Int64,
    "refused_count": pl.Int64,
    "happened_at": pl.Datetime("us"),
}


def _write_contacts(con: duckdb.DuckDBPyConnection, run: _Run, moment: datetime) -> list[dict[str, Any]]:
    """Insert the new contacts, update the touched ones; returns their activity entries."""
    created = [c.values | {"last_updated": moment} for c in run.contacts.values() if not c.existed]
    if created:
        _register(con, "new_contacts", _frame(created, NEW_CONTACT_FIELDS, _SCHEMA))
        columns = ", ".join(NEW_CONTACT_FIELDS)
        con.execute(f"INSERT INTO contacts ({columns}) SELECT {columns} FROM new_contacts")
        con.execute(
            "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
            f"SELECT contact_id, $now, source, 'created', {_created_changes_sql()} FROM new_contacts",
            {"now": moment},
        )
    activity: list[dict[str, Any]] = []
    touched = [c for c in run.contacts.values() if c.existed and c.touched]
    diffs = {c.values["contact_id"]: _profile_diff(c) for c in touched}
    if touched:
        updates = [c.values | {"profile_changed": bool(diffs[c.values["contact_id"]])} for c in touched]
        _register(con, "touched_contacts", _frame(updates, (*LOADED_FIELDS, "profile_changed"), _SCHEMA))
        assignments = ", ".join(f"{key} = t.{key}" for key in (*PROFILE_FIELDS, "last_seen", "last_contacted"))
        # Times alone (last seen) do not bump the version: that would make every open edit form stale.
        con.execute(
            f"UPDATE contacts SET {assignments}, "
            "version = contacts.version + CASE WHEN t.profile_changed THEN 1 ELSE 0 END, "
            "last_updated = CASE WHEN t.profile_changed THEN $now ELSE contacts.last_updated END "
            "FROM touched_contacts t WHERE contacts.contact_id = t.contact_id",
            {"now": moment},
        )
        activity += [
            _activity(contact_id, moment, "channels", "updated", json.dumps(diff))
            for contact_id, diff in diffs.items()
            if diff
        ]
    return activity


def _created_changes_sql() -> str:
    """The 'created' activity's changes, {"field": {"before": null, "after": value}} for each value set, in SQL.

    Built in the database: formatting 100,000 of these in Python took seconds.
    """
    parts = [
        f"""CASE WHEN {key} IS NOT NULL AND {key}::VARCHAR <> 'false' """
        f"""THEN '"{key}": ' || to_json({{'before': NULL, 'after': {key}}}) END"""
        for key in NEW_CONTACT_FIELDS
        if key not in ("blocked", "last_updated")
    ]
    return f"('{{' || concat_ws(', ', {', '.join(parts)}) || '}}')::JSON"


def _profile_diff(contact: _Contact) -> dict[str, Any]:
    """{"field": {"before": .., "after": ..}} for each profile field the run changed, and each identity added."""
    before, after = contact.before, contact.values
    diff = {key: {"before": before[key], "after": after[key]} for key in PROFILE_FIELDS if before[key] != after[key]}
    for channel, social_id in contact.new_identities:
        diff[f"identity {channel}"] = {"before": None, "after": social_id}
    return diff


def _activity(contact_id: str, at: datetime, actor: str, action: str, changes: str | None) -> dict[str, Any]:
    return {"contact_id": contact_id, "happened_at": at, "actor": actor, "action": action, "changes": changes}


def _write_identities(con: duckdb.DuckDBPyConnection, run: _Run) -> None:
    if run.new_identities:
        new = [
            {
                "channel": channel,
                "social_id": social_id,
                "contact_id": contact_id,
                "first_seen": at,
                "last_seen": run.used_identities[(channel, social_id)],
            }
            for (channel, social_id), (contact_id, at) in run.new_identities.items()
        ]
        _register(
            con,
            "new_identities",
            _frame(
                new,
                ("channel", "social_id", "contact_id", "first_seen", "last_seen"),
                _SCHEMA | {"last_seen": pl.Datetime("us")},
            ),
        )
        con.execute(
            "INSERT INTO channel_identities SELECT channel, social_id, contact_id, first_seen, last_seen "
            "FROM new_identities ON CONFLICT (channel, social_id) DO UPDATE SET contact_id = excluded.contact_id, "
            "first_seen = excluded.first_seen, last_seen = excluded.last_seen"
        )
    seen = [
        {"channel": c, "social_id": s, "last_seen": at}
        for (c, s), at in run.used_identities.items()
        if (c, s) not in run.new_identities
    ]
    if seen:
        _register(con, "seen_identities", _frame(seen, ("channel", "social_id", "last_seen"), _SCHEMA))
        con.execute(
            "UPDATE channel_identities SET last_seen = greatest(channel_identities.last_seen, s.last_seen) "
            "FROM seen_identities s WHERE channel_identities.channel = s.channel "
            "AND channel_identities.social_id = s.social_id"
        )


def _record(conversation: _Conversation) -> dict[str, Any]:
    return {key: getattr(conversation, key) for key in _Conversation.__slots__}


def _write_conversations(con: duckdb.DuckDBPyConnection, run: _Run, loaded: list[_Conversation]) -> None:
    columns = ("contact_id", "kind", "channel", "subject", "started_at", "last_message_at", "message_count")
    opened = [_record(c) for c in run.opened]
    if opened:
        _register(con, "opened_conversations", _frame(opened, columns, _SCHEMA))
        con.execute(
            f"INSERT INTO conversations ({', '.join(columns)}) SELECT {', '.join(columns)} "
            "FROM opened_conversations ORDER BY started_at"
        )
    # Sorted by ID, which is storage order: DuckDB updates rows in the order given, and jumping around costs 100x.
    continued = sorted((_record(c) for c in loaded if c.continued), key=lambda c: c["conversation_id"])
    if continued:
        _register(
            con,
            "continued_conversations",
            _frame(continued, ("conversation_id", "started_at", "last_message_at", "message_count"), _SCHEMA),
        )
        con.execute(
            "UPDATE conversations SET started_at = c.started_at, last_message_at = c.last_message_at, "
            "message_count = c.message_count FROM continued_conversations c "
            "WHERE conversations.conversation_id = c.conversation_id"
        )


def _write_refusals(con: duckdb.DuckDBPyConnection, run: _Run, moment: datetime) -> list[dict[str, Any]]:
    refused = [c for c in run.contacts.values() if c.refused]
    if not refused:
        return []
    counts = dict(
        rows(
            con,
            "SELECT contact_id, refused_count FROM channel_refusals WHERE contact_id IN (SELECT unnest($ids))",
            {"ids": [c.values["contact_id"] for c in refused]},
        )
    )
    _register(
        con,
        "refused_contacts",
        pl.DataFrame(
            {"contact_id": [c.values["contact_id"] for c in refused], "refused_count": [c.refused for c in refused]},
            schema={"contact_id": pl.String, "refused_count": pl.Int64},
        ),
    )
    con.execute(
        "INSERT INTO channel_refusals SELECT contact_id, refused_count, $now FROM refused_contacts "
        "ON CONFLICT (contact_id) DO UPDATE SET refused_count = channel_refusals.refused_count + "
        "excluded.refused_count, last_refused_at = excluded.last_refused_at",
        {"now": moment},
    )
    return [
        _activity(
            c.values["contact_id"],
            moment,
            "channels",
            "events refused (blocked)",
            json.dumps(
                {
                    "refused events": {
                        "before": counts.get(c.values["contact_id"], 0),
                        "after": counts.get(c.values["contact_id"], 0) + c.refused,
                    }
                }
            ),
        )
        for c in refused
    ]


def _write_activity(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]]) -> None:
    if entries:
        columns = ("contact_id", "happened_at", "actor", "action", "changes")
        _register(con, "run_activity", _frame(entries, columns, _SCHEMA))
        con.execute(
            "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
            "SELECT contact_id, happened_at, actor, action, changes::JSON FROM run_activity"
        )


def _record_run(
    con: duckdb.DuckDBPyConnection, report: IngestReport, started: datetime, actor: str, origin: str
) -> int:
    return scalar(
        con,
        "INSERT INTO ingest_runs (started_at, finished_at, actor, origin, events, created, updated, "
        "conversations_opened, conversations_continued, refused_blocked, malformed, malformed_lines) "
        "VALUES ($started, $finished, $actor, $origin, $events, $created, $updated, $opened, $continued, "
        "$refused, $malformed, $lines) RETURNING run_id",
        {
            "started": started,
            "finished": now(),
            "actor": actor,
            "origin": origin,
            "events": report.events,
            "created": report.created,
            "updated": report.updated,
            "opened": report.conversations_opened,
            "continued": report.conversations_continued,
            "refused": report.refused_blocked,
            "malformed": len(report.malformed),
            "lines": json.dumps(report.malformed[:MAX_MALFORMED_KEPT]),
        },
    )


def ingest_events(
    con: duckdb.DuckDBPyConnection, events: list[ParsedEvent], malformed: list[Malformed], actor: str, origin: str
) -> IngestReport:
    """Apply checked events in order, in one transaction, and record the run."""
    started = now()
    try:
        with _ONE_RUN_AT_A_TIME:
            return _apply(con, events, malformed, actor, origin, started)
    finally:
        for name in _VIEWS:  # the frames they hold can be large
            con.unregister(name)


def _apply(
    con: duckdb.DuckDBPyConnection,
    events: list[ParsedEvent],
    malformed: list[Malformed],
    actor: str,
    origin: str,
    started: datetime,
) -> IngestReport:
    with transaction(con):
        run = _load(con, events)
        loaded = list(run.conversations.values())
        for item in events:
            (_webchat if isinstance(item.event, WebChatEvent) else _inbox)(run, item)
        moment = now()
        activity = _write_contacts(con, run, moment)
        _write_identities(con, run)
        _write_conversations(con, run, loaded)
        activity += _write_refusals(con, run, moment)
        _write_activity(con, activity)
        report = IngestReport(
            events=len(events) + len(malformed),
            malformed=[{"line": bad.line, "reason": bad.reason} for bad in malformed],
            **run.counts,
        )
        report.run_id = _record_run(con, report, started, actor, origin)
    return report


def ingest_lines(
    con: duckdb.DuckDBPyConnection, lines: list[str], actor: str, origin: str = "cli", first_line: int = 1
) -> IngestReport:
    """Check and apply JSON lines of events; a malformed line is reported by number and applies nothing."""
    events, malformed = parse_lines(lines, default_country(con), first_line)
    return ingest_events(con, events, malformed, actor, origin)


def ingest_file(con: duckdb.DuckDBPyConnection, path: str | Path, actor: str) -> IngestReport:
    """Ingest a JSON-lines file of events."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return ingest_lines(con, text.splitlines(), actor, origin=f"cli: {Path(path).name}")


# --- What the pages show ---


def contact_identities(con: duckdb.DuckDBPyConnection, contact_id: str) -> pl.DataFrame:
    """A contact's channel identities: channel, social_id, first_seen, last_seen."""
    return frame(
        con,
        "SELECT channel, social_id, first_seen, last_seen FROM channel_identities "
        "WHERE contact_id = ? ORDER BY first_seen, channel",
        [contact_id],
    )


def contact_conversations(con: duckdb.DuckDBPyConnection, contact_id: str) -> pl.DataFrame:
    """A contact's conversations, newest first: kind, channel, subject, started, last message, count, status."""
    return frame(
        con,
        "SELECT kind, channel, subject, started_at, last_message_at, message_count, status "
        "FROM conversations WHERE contact_id = ? ORDER BY last_message_at DESC",
        [contact_id],
    )


def refused_count(con: duckdb.DuckDBPyConnection, contact_id: str) -> int:
    """How many channel events from this contact were refused because it was blocked."""
    return scalar(con, "SELECT refused_count FROM channel_refusals WHERE contact_id = ?", [contact_id]) or 0


def recent_ingest_runs(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pl.DataFrame:
    """The latest ingest runs with their counts, newest first."""
    return frame(
        con,
        "SELECT run_id, started_at, finished_at, actor, origin, events, created, updated, conversations_opened, "
        "conversations_continued, refused_blocked, malformed, CAST(malformed_lines AS VARCHAR) AS malformed_lines "
        "FROM ingest_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    )
