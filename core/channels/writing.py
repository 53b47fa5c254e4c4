"""Writing an ingest run: its contacts, identities, conversations, messages, refusals and activity in a few bulk
statements, each reading a scratch frame, and the run's own line in ingest_runs."""

import hashlib
import json
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from core.channels.run import (
    LOADED_FIELDS,
    NEW_CONTACT_FIELDS,
    PROFILE_FIELDS,
    IngestReport,
    Run,
    RunContact,
    RunConversation,
)
from core.contacts.activity import now
from core.db import rows, scalar, scratch
from core.db.dialect import Dialect, dialect
from core.views.search_index import refresh_search_index

MAX_MALFORMED_KEPT = 1000


# A message's key: its sender on the channel, its time and its text (see migration 013), an unsigned 128-bit
# integer bit for bit DuckDB's md5_number(concat_ws(chr(0), sender, strftime(sent_at, '%Y-%m-%dT%H:%M:%S.%f'),
# text)), which keyed the messages stored before. Hashed here, as PostgreSQL text holds no NUL, and sent as its two
# 64-bit halves (no Arrow type holds 128 bits); a store moved by migrate-store keeps its keys, and a replayed
# message is still found. This SQL joins the halves on both stores (UHUGEINT: numeric(39, 0) on PostgreSQL, 027).
MESSAGE_KEY_SQL = "CAST(key_high AS UHUGEINT) * CAST('18446744073709551616' AS UHUGEINT) + key_low"


def message_keys(data: pl.DataFrame) -> pl.DataFrame:
    """The key halves (key_low, key_high: UInt64) of messages given as sender, sent_at (naive) and text columns."""
    joined = data.select(
        pl.concat_str(
            [pl.col("sender"), pl.col("sent_at").dt.strftime("%Y-%m-%dT%H:%M:%S.%6f"), pl.col("text")], separator="\x00"
        )
    ).to_series()
    digest = hashlib.md5
    halves = np.frombuffer(b"".join([digest(one.encode()).digest() for one in joined]), dtype="<u8").reshape(-1, 2)
    return pl.DataFrame(
        {"key_low": halves[:, 0], "key_high": halves[:, 1]}, schema={"key_low": pl.UInt64, "key_high": pl.UInt64}
    )


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


def _write_contacts(con: duckdb.DuckDBPyConnection, run: Run, moment: datetime) -> list[dict[str, Any]]:
    """Insert the new contacts, update the touched ones; returns their activity entries."""
    created = [c.values | {"last_updated": moment} for c in run.contacts.values() if not c.existed]
    if created:
        with scratch(con, _frame(created, NEW_CONTACT_FIELDS, _SCHEMA)) as new_contacts:
            columns = ", ".join(NEW_CONTACT_FIELDS)
            con.execute(f"INSERT INTO contacts ({columns}) SELECT {columns} FROM {new_contacts}")
            con.execute(
                "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
                f"SELECT contact_id, $now, source, 'created', {_created_changes_sql(dialect(con))} FROM {new_contacts}",
                {"now": moment},
            )
    activity: list[dict[str, Any]] = []
    touched = [c for c in run.contacts.values() if c.existed and c.touched]
    diffs = {c.values["contact_id"]: _profile_diff(c) for c in touched}
    if touched:
        updates = [c.values | {"profile_changed": bool(diffs[c.values["contact_id"]])} for c in touched]
        assignments = ", ".join(f"{key} = t.{key}" for key in (*PROFILE_FIELDS, "last_seen", "last_contacted"))
        with scratch(con, _frame(updates, (*LOADED_FIELDS, "profile_changed"), _SCHEMA)) as touched_contacts:
            # Times alone (last seen) do not bump the version: that would make every open edit form stale.
            con.execute(
                f"UPDATE contacts SET {assignments}, "
                "version = contacts.version + CASE WHEN t.profile_changed THEN 1 ELSE 0 END, "
                # touches: a delete running meanwhile conflicts with this run (core.contacts.records.delete_selected).
                "touches = contacts.touches + 1, "
                "last_updated = CASE WHEN t.profile_changed THEN $now ELSE contacts.last_updated END "
                f"FROM {touched_contacts} t WHERE contacts.contact_id = t.contact_id",
                {"now": moment},
            )
        activity += [
            _activity(contact_id, moment, "channels", "updated", json.dumps(diff))
            for contact_id, diff in diffs.items()
            if diff
        ]
    changed = [c["contact_id"] for c in created] + [contact_id for contact_id, diff in diffs.items() if diff]
    if changed:
        refresh_search_index(con, changed, custom_values=False)  # events write no custom value
    return activity


def _created_changes_sql(d: Dialect) -> str:
    """The 'created' activity's changes, {"field": {"before": null, "after": value}} for each value set, in SQL.

    Built in the database: formatting 100,000 of these in Python took seconds. A time goes in as its text
    ('2026-11-25 09:00:00'), which DuckDB's JSON writes too; PostgreSQL's would put a 'T' in it.
    """
    parts = [
        f"""CASE WHEN {key} IS NOT NULL AND {key}::VARCHAR <> 'false' """
        f"""THEN '"{key}": ' || {d.json_object([("before", "NULL"), ("after", _json_value(key))])} END"""
        for key in NEW_CONTACT_FIELDS
        if key not in ("blocked", "last_updated")
    ]
    return f"('{{' || concat_ws(', ', {', '.join(parts)}) || '}}')::JSON"


def _json_value(key: str) -> str:
    return f"CAST({key} AS VARCHAR)" if isinstance(_SCHEMA.get(key), pl.Datetime) else key


def _profile_diff(contact: RunContact) -> dict[str, Any]:
    """{"field": {"before": .., "after": ..}} for each profile field the run changed, and each identity added."""
    before, after = contact.before, contact.values
    diff = {key: {"before": before[key], "after": after[key]} for key in PROFILE_FIELDS if before[key] != after[key]}
    for channel, social_id in contact.new_identities:
        diff[f"identity {channel}"] = {"before": None, "after": social_id}
    return diff


def _activity(contact_id: str, at: datetime, actor: str, action: str, changes: str | None) -> dict[str, Any]:
    return {"contact_id": contact_id, "happened_at": at, "actor": actor, "action": action, "changes": changes}


def _write_identities(con: duckdb.DuckDBPyConnection, run: Run) -> None:
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
        columns = ("channel", "social_id", "contact_id", "first_seen", "last_seen")
        with scratch(con, _frame(new, columns, _SCHEMA | {"last_seen": pl.Datetime("us")})) as new_identities:
            con.execute(
                "INSERT INTO channel_identities SELECT channel, social_id, contact_id, first_seen, last_seen "
                f"FROM {new_identities} ON CONFLICT (channel, social_id) DO UPDATE SET "
                "contact_id = excluded.contact_id, first_seen = excluded.first_seen, last_seen = excluded.last_seen"
            )
    seen = [
        {"channel": c, "social_id": s, "last_seen": at}
        for (c, s), at in run.used_identities.items()
        if (c, s) not in run.new_identities
    ]
    if seen:
        with scratch(con, _frame(seen, ("channel", "social_id", "last_seen"), _SCHEMA)) as seen_identities:
            con.execute(
                "UPDATE channel_identities SET last_seen = greatest(channel_identities.last_seen, s.last_seen) "
                f"FROM {seen_identities} s WHERE channel_identities.channel = s.channel "
                "AND channel_identities.social_id = s.social_id"
            )


def _record(conversation: RunConversation) -> dict[str, Any]:
    return {key: getattr(conversation, key) for key in RunConversation.__slots__}


def _write_conversations(con: duckdb.DuckDBPyConnection, run: Run, loaded: list[RunConversation]) -> None:
    columns = ("contact_id", "kind", "channel", "subject", "started_at", "last_message_at", "message_count")
    if run.opened:
        # Numbered here, in order of their start, so that their messages can name them.
        numbers = dialect(con).integer_range("0", "?")
        ids = con.execute(f"SELECT nextval('related_id_seq') FROM {numbers} AS r(i)", [len(run.opened)]).fetchall()
        for conversation, (conversation_id,) in zip(sorted(run.opened, key=lambda c: c.started_at), ids, strict=True):
            conversation.conversation_id = conversation_id
        opened = [_record(c) for c in run.opened]
        with scratch(con, _frame(opened, ("conversation_id", *columns), _SCHEMA)) as opened_conversations:
            con.execute(
                f"INSERT INTO conversations (conversation_id, {', '.join(columns)}) "
                f"SELECT conversation_id, {', '.join(columns)} FROM {opened_conversations} ORDER BY conversation_id"
            )
    # Sorted by ID, which is storage order: DuckDB updates rows in the order given, and jumping around costs 100x.
    continued = sorted((_record(c) for c in loaded if c.continued), key=lambda c: c["conversation_id"])
    if continued:
        changed = ("conversation_id", "started_at", "last_message_at", "message_count")
        with scratch(con, _frame(continued, changed, _SCHEMA)) as continued_conversations:
            con.execute(
                "UPDATE conversations SET started_at = c.started_at, last_message_at = c.last_message_at, "
                f"message_count = c.message_count FROM {continued_conversations} c "
                "WHERE conversations.conversation_id = c.conversation_id"
            )


def _write_messages(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    """One message per event with a text; one a replay brings again (same sender, time and text) is skipped."""
    if not run.messages:
        return
    messages = pl.DataFrame(
        {
            "conversation_id": [m.conversation.conversation_id for m in run.messages],
            "contact_id": [m.conversation.contact_id for m in run.messages],
            "channel": [m.conversation.channel for m in run.messages],
            "sender": [m.sender for m in run.messages],
            "sent_at": [m.sent_at for m in run.messages],
            "text": [m.text for m in run.messages],
        },
        schema={
            "conversation_id": pl.Int64,
            "contact_id": pl.String,
            "channel": pl.String,
            "sender": pl.String,
            "sent_at": pl.Datetime("us"),
            "text": pl.String,
        },
    )
    messages = pl.concat([messages.drop("sender"), message_keys(messages)], how="horizontal")
    # A line repeated within the file is one message too: the first, by conversation.
    messages = messages.sort("conversation_id", maintain_order=True).unique(["key_low", "key_high"], keep="first")
    with scratch(con, messages) as run_messages:
        con.execute(
            "INSERT INTO messages (message_key, conversation_id, contact_id, channel, sent_at, text) "
            f"SELECT {MESSAGE_KEY_SQL}, conversation_id, contact_id, channel, sent_at, text "
            f"FROM {run_messages} ORDER BY conversation_id, sent_at ON CONFLICT (message_key) DO NOTHING"
        )


def _write_refusals(con: duckdb.DuckDBPyConnection, run: Run, moment: datetime) -> list[dict[str, Any]]:
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
    refusals = pl.DataFrame(
        {"contact_id": [c.values["contact_id"] for c in refused], "refused_count": [c.refused for c in refused]},
        schema={"contact_id": pl.String, "refused_count": pl.Int64},
    )
    with scratch(con, refusals) as refused_contacts:
        # A refusal is kept with its contact: touch it, so that a delete running meanwhile conflicts with it.
        con.execute(
            f"UPDATE contacts SET touches = touches + 1 WHERE contact_id IN (SELECT contact_id FROM {refused_contacts})"
        )
        con.execute(
            f"INSERT INTO channel_refusals SELECT contact_id, refused_count, $now FROM {refused_contacts} "
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
        with scratch(con, _frame(entries, columns, _SCHEMA)) as run_activity:
            con.execute(
                "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
                f"SELECT contact_id, happened_at, actor, action, changes::JSON FROM {run_activity}"
            )


def write_run(con: duckdb.DuckDBPyConnection, run: Run, loaded: list[RunConversation]) -> None:
    """Write what the run changed, inside the caller's transaction; `loaded` are the conversations read before it."""
    moment = now()
    activity = _write_contacts(con, run, moment)
    _write_identities(con, run)
    _write_conversations(con, run, loaded)
    _write_messages(con, run)
    activity += _write_refusals(con, run, moment)
    _write_activity(con, activity)


def record_run(con: duckdb.DuckDBPyConnection, report: IngestReport, started: datetime, actor: str, origin: str) -> int:
    """Record a run in ingest_runs with its counts and its first malformed lines; its run ID."""
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
