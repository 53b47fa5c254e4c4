"""Contacts created by the channels: Web Chat visitors and Inbox senders, their identities and conversations.

An ingest run reads every line first (core.channels.events), so a malformed line is reported and left
out whole. It then loads what the valid events refer to in a few set-based queries, replays the events
in order on dictionaries (a later event sees the contact an earlier one created), and writes the result
with a handful of bulk statements (core.channels.writing) in one transaction: all of a run is applied, or
none of it. Every event with a text is also a message of its conversation (table messages, keyed by its
sender, time and text, so that a replayed file adds none). What the pages read back is in core.channels.reading.
"""

import hashlib
import random
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from core.accounts.permissions import writes
from core.channels.events import InboxEvent, Malformed, ParsedEvent, WebChatEvent, parse_lines
from core.channels.names import generated_name
from core.channels.run import (
    LOADED_FIELDS,
    NEW_CONTACT_FIELDS,
    WEB_FIELDS,
    IngestReport,
    Run,
    RunContact,
    RunConversation,
    RunMessage,
)
from core.channels.writing import record_run, write_run
from core.contacts.activity import now
from core.contacts.validation import default_country
from core.db import Scratch, frame, rows, scratch, scratch_ids, transaction
from core.db.connection import is_write_conflict
from core.db.dialect import dialect
from core.duplicates.merged_ids import merged_into
from core.errors import ContactsError

# A file uploaded on the Channels page is read in the app's process: at most this many bytes and lines (bigger
# files go through `python -m core ingest`, which sends them to the endpoint in parts).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_LINES = 200_000
# A message within this long after the last one continues the conversation; a later one opens a new one.
CONVERSATION_GAP = timedelta(hours=24)
# Within a process (the app: its endpoint and its upload page), runs take turns: two runs touching the
# same contact at once would make DuckDB abort one of them with a conflict.
_ONE_RUN_AT_A_TIME = threading.Lock()
# A run that meets another writer's change to the same rows (another app process's run on PostgreSQL, an edit on
# a page) is rolled back whole and tried again on what that writer committed, a few times, after a short random
# wait; then the conflict is raised (the endpoint answers 409: send again). PostgreSQL: a serialization failure,
# a deadlock, a row lock not granted in time, or a key (contact, identity, message) another run inserted.
RUN_TRIES = 5


def split_name(name: str) -> tuple[str, str | None]:
    """'Maria de la Cruz' → ('Maria', 'de la Cruz'); a single word is a first name."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip() or None


# --- Loading what the events refer to: a few set-based queries ---


def _load_identities(con: duckdb.DuckDBPyConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    wanted = pl.DataFrame(list(keys), schema={"channel": pl.String, "social_id": pl.String}, orient="row")
    with scratch(con, wanted) as wanted_identities:
        # An identity whose contact is gone (deleted or merged away) counts as unknown, and is re-pointed.
        found = rows(
            con,
            "SELECT i.channel, i.social_id, i.contact_id FROM channel_identities i "
            f"JOIN {wanted_identities} w USING (channel, social_id) JOIN contacts c USING (contact_id)",
        )
    return {(channel, social_id): contact_id for channel, social_id, contact_id in found}


def _first_by(con: duckdb.DuckDBPyConnection, column: str, values: set[str]) -> dict[str, str]:
    """The earliest-created contact per email (or phone): where a new Inbox identity attaches."""
    if not values:
        return {}
    found = rows(
        con,
        f"SELECT {column}, contact_id FROM (SELECT {column}, contact_id, row_number() OVER "
        f"(PARTITION BY {column} ORDER BY created_on NULLS LAST, contact_id) AS rank FROM contacts "
        f"WHERE {column} IN (SELECT unnest($values))) AS holders WHERE rank = 1",
        {"values": sorted(values)},
    )
    return dict(found)


def _load_contacts(con: duckdb.DuckDBPyConnection, wanted: Scratch) -> dict[str, RunContact]:
    columns = ", ".join("c." + key for key in LOADED_FIELDS)
    # In storage order: the UPDATE that writes them back is many times faster in that order.
    order = dialect(con).storage_order("c")
    loaded = frame(con, f"SELECT {columns} FROM contacts c JOIN {wanted} USING (contact_id) ORDER BY {order}")
    contacts = {
        record["contact_id"]: RunContact(values=record, existed=True, before=dict(record))
        for record in loaded.iter_rows(named=True)
    }
    for contact_id, channel in rows(
        con, f"SELECT contact_id, channel FROM channel_identities JOIN {wanted} USING (contact_id)"
    ):
        if contact_id in contacts:  # identities left by a contact that is gone belong to no one
            contacts[contact_id].channels.add(channel)
    return contacts


def _load_conversations(con: duckdb.DuckDBPyConnection, wanted: Scratch) -> dict[tuple[str, str, str], RunConversation]:
    """The latest conversation not closed per contact, kind and channel, for the contacts loaded."""
    found = rows(
        con,
        "SELECT contact_id, kind, channel, subject, started_at, last_message_at, message_count, conversation_id "
        "FROM (SELECT *, row_number() OVER (PARTITION BY contact_id, kind, channel "
        "ORDER BY last_message_at DESC, conversation_id DESC) AS rank "
        f"FROM conversations JOIN {wanted} USING (contact_id) WHERE status <> 'closed') AS open_conversations "
        "WHERE rank = 1",
    )
    return {(row[0], row[1], row[2]): RunConversation(*row) for row in found}


def _load(con: duckdb.DuckDBPyConnection, events: list[ParsedEvent]) -> Run:
    """Everything stored that the events may refer to."""
    inbox = [(item, item.event) for item in events if isinstance(item.event, InboxEvent)]
    identities = _load_identities(con, {(event.channel, event.social_id) for _, event in inbox})
    strangers = [(item, event) for item, event in inbox if (event.channel, event.social_id) not in identities]
    by_email = _first_by(con, "email", {item.email for item, _ in strangers if item.email})
    by_phone = _first_by(con, "phone", {item.phone for item, _ in strangers if item.phone})
    wanted = {item.contact_id for item in events if item.contact_id}
    merged = merged_into(con, wanted)
    wanted |= set(merged.values()) | set(identities.values()) | set(by_email.values()) | set(by_phone.values())
    wanted |= {_inbox_id(event) for _, event in strangers}
    with scratch_ids(con, sorted(wanted)) as wanted_contacts:
        contacts = _load_contacts(con, wanted_contacts)
        conversations = _load_conversations(con, wanted_contacts)
    return Run(contacts, identities, by_email, by_phone, conversations, merged)


# --- Replaying the events in order ---


def _new_contact(run: Run, contact_id: str, item: ParsedEvent, source: str, channel: str) -> RunContact:
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
    contact = RunContact(values=values, existed=False)
    run.contacts[contact_id] = contact
    run.counts["created"] += 1
    return contact


def _apply_profile(run: Run, contact: RunContact, item: ParsedEvent) -> None:
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


def _converse(run: Run, contact_id: str, kind: str, channel: str, item: ParsedEvent) -> None:
    """Continue the open conversation on this channel if it is recent, else open one."""
    at, key = item.at, (contact_id, kind, channel)
    current = run.conversations.get(key)
    if current is not None and at - current.last_message_at <= CONVERSATION_GAP:
        current.message_count += 1
        current.started_at = min(current.started_at, at)
        current.last_message_at = max(current.last_message_at, at)
        current.continued = current.conversation_id is not None
        run.counts["conversations_continued"] += 1
    else:
        subject = item.event.subject if isinstance(item.event, InboxEvent) else None
        # The replaced conversation (if any) is left as it is: it stays in the contact's history.
        current = run.conversations[key] = RunConversation(contact_id, kind, channel, subject, at, at, 1)
        run.opened.append(current)
        run.counts["conversations_opened"] += 1
    if item.event.text:
        run.messages.append(RunMessage(current, _sender(item), at, item.event.text))


def _sender(item: ParsedEvent) -> str:
    """Who sent an event on its channel, as the event says it (not the contact it reached, which a merge changes)."""
    event = item.event
    if isinstance(event, InboxEvent):
        return f"inbox\x00{event.channel}\x00{event.social_id}"
    return f"webchat\x00{item.contact_id}"


def _refuse(run: Run, contact: RunContact) -> None:
    contact.refused += 1
    run.counts["refused_blocked"] += 1


def _webchat(run: Run, item: ParsedEvent) -> None:
    assert item.contact_id is not None  # parse_lines gives every Web Chat event one: the cookie's, else visitor_id
    contact_id = run.merged.get(item.contact_id, item.contact_id)
    contact = run.contacts.get(contact_id)
    if contact is not None and contact.values["blocked"]:
        _refuse(run, contact)
        return
    if contact is None:
        contact = _new_contact(run, contact_id, item, "web chat", "web")
    _apply_profile(run, contact, item)
    _converse(run, contact_id, "webchat", "web", item)


def _inbox_contact(run: Run, item: ParsedEvent, channel: str) -> str | None:
    """The contact a stranger's identity attaches to: same email, else same phone, if it has none on the channel."""
    for contact_id in (run.by_email.get(item.email or ""), run.by_phone.get(item.phone or "")):
        if contact_id is not None and channel not in run.contacts[contact_id].channels:
            return contact_id
    return None


def _inbox(run: Run, item: ParsedEvent, event: InboxEvent) -> None:
    """An Inbox event; `event` is `item.event`, seen as the InboxEvent it is."""
    key = (event.channel, event.social_id)
    contact_id = run.identities.get(key) or _inbox_contact(run, item, event.channel)
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


@writes("channels.ingest")
def ingest_events(
    con: duckdb.DuckDBPyConnection, events: list[ParsedEvent], malformed: list[Malformed], actor: str, origin: str
) -> IngestReport:
    """Apply checked events in order, in one transaction, and record the run (tried again on a conflict)."""
    started = now()
    for attempt in range(RUN_TRIES):
        try:
            with _ONE_RUN_AT_A_TIME:
                return _apply(con, events, malformed, actor, origin, started)
        except Exception as error:
            if attempt == RUN_TRIES - 1 or not is_write_conflict(error, key_taken=True):
                raise
        time.sleep(random.uniform(0.05, 0.15) * 2**attempt)  # noqa: S311 - a wait, not a secret
    raise AssertionError("unreachable")  # the last try returned or raised


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
            if isinstance(item.event, WebChatEvent):
                _webchat(run, item)
            else:
                _inbox(run, item, item.event)
        write_run(con, run, loaded)
        report = IngestReport(
            events=len(events) + len(malformed),
            malformed=[{"line": bad.line, "reason": bad.reason} for bad in malformed],
            **run.counts,
        )
        report.run_id = record_run(con, report, started, actor, origin)
    return report


@writes("channels.ingest")
def ingest_lines(
    con: duckdb.DuckDBPyConnection, lines: list[str], actor: str, origin: str = "cli", first_line: int = 1
) -> IngestReport:
    """Check and apply JSON lines of events; a malformed line is reported by number and applies nothing."""
    events, malformed = parse_lines(lines, default_country(con), first_line)
    return ingest_events(con, events, malformed, actor, origin)


def upload_lines(data: bytes) -> list[str]:
    """An uploaded file's lines, once it is within the upload limits and UTF-8; else ContactsError says which."""
    if len(data) > MAX_UPLOAD_BYTES or data.count(b"\n") >= MAX_UPLOAD_LINES:
        raise ContactsError(
            f"An upload holds at most {MAX_UPLOAD_BYTES // 2**20} MB and {MAX_UPLOAD_LINES:,} lines; "
            "send bigger files with `python -m core ingest FILE --url ...`."
        )
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise ContactsError(f"The file is not UTF-8 text ({error.reason} at byte {error.start:,}).") from None


@writes("channels.ingest")
def ingest_file(con: duckdb.DuckDBPyConnection, path: str | Path, actor: str) -> IngestReport:
    """Ingest a JSON-lines file of events."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return ingest_lines(con, text.splitlines(), actor, origin=f"cli: {Path(path).name}")
