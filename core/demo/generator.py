"""Realistic demo data: contacts from every source and channel, known duplicates, related records.

Every column is drawn with numpy and shaped with Polars, and each table is written with one
INSERT ... SELECT, so a million contacts take about a minute rather than an hour. The same seed on
the same database always gives the same data; `demo_truth` says which contacts are one person.
The reference tables (countries, names, texts, weights) are data files read by `reference.py`.
"""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
from pydantic import BaseModel

from core.channels.writing import MESSAGE_KEY_SQL
from core.contacts.custom_values import insert_values
from core.db import frame, scalar, scratch, transaction
from core.db.dialect import dialect
from core.demo import related
from core.demo.duplicates import people_with_duplicates
from core.demo.lifecycle import add_last_contact, add_lifecycle
from core.demo.reference import owners, slug
from core.views.search_index import refresh_search_index
from core.workspace import define_custom_field, lead_stages

DEMO_ADMIN = "admin"  # the demo team's admin (core/demo/tables/owners.csv) acts for the demo

# Key, label, type, dropdown options, whether it identifies a contact; related.custom_values fills them.
CUSTOM_FIELDS = (
    ("customer_number", "Customer number", "text", None, True),
    ("lifetime_value", "Lifetime value", "number", None, False),
    ("newsletter_opt_in", "Newsletter opt-in", "checkbox", None, False),
    ("last_purchase_at", "Last purchase", "datetime", None, False),
    ("plan", "Plan", "dropdown", ["Free", "Pro", "Enterprise"], False),
)
CONTACT_COLUMNS = (
    "contact_id", "first_name", "last_name", "email", "phone", "phone_raw", "lead_stage", "owner_id", "tags",
    "email_subscription", "sms_subscription", "source", "channel", "social_id", "name_generated", "company",
    "job_title", "gender", "birthday", "language", "time_zone", "country", "state", "city", "address",
    "postal_code", "website", "browser", "os", "device", "ip_address", "first_visit_url", "referrer", "utm_source",
    "utm_medium", "utm_campaign", "created_on", "last_updated", "last_contacted", "last_seen", "blocked", "blocked_on",
)  # fmt: skip


class DemoSummary(BaseModel):
    """How many rows the demo wrote, and how long it took."""

    contacts: int
    duplicates: int
    conversations: int
    messages: int
    tickets: int
    notes: int
    media: int
    activity: int
    seconds: float


def generate_demo(
    con: duckdb.DuckDBPyConnection, contacts: int = 5000, seed: int = 7, now: datetime | None = None
) -> DemoSummary:
    """Add `contacts` realistic demo contacts as of `now` (default: this hour), with duplicates' truth and records."""
    started = time.perf_counter()
    moment = _now_micros(now)
    # define_custom_field commits on its own, so the team and the fields come before the one big transaction.
    _ensure_owners(con)
    usable = _ensure_custom_fields(con)
    with transaction(con):
        if contacts <= 0:
            return DemoSummary(**dict.fromkeys(DemoSummary.model_fields, 0))
        # Mixing in the contacts already there keeps a second run on the same database from reusing IDs.
        rng = np.random.default_rng([seed, scalar(con, "SELECT count(*) FROM contacts")])
        first_person = scalar(con, "SELECT coalesce(max(person_id), 0) + 1 FROM demo_truth")
        stages = lead_stages(con)
        people = add_lifecycle(rng, people_with_duplicates(rng, contacts, first_person), stages, moment)
        counts = _write(con, rng, people, stages, usable, moment)
    return DemoSummary(**counts, seconds=round(time.perf_counter() - started, 3))


def _write(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    people: pl.DataFrame,
    stages: list[str],
    usable: set[str],
    now: int,
) -> dict[str, int]:
    """Build and insert every table, one statement each, dropping each frame once written."""
    conversations = related.conversations(rng, people, now)
    people = add_last_contact(people, conversations, rng, now)
    counts = {
        "contacts": _insert(con, "contacts", people.select(CONTACT_COLUMNS)),
        "duplicates": people["_kind"].count(),  # the copies: rows with a kind of duplicate
    }
    _insert(con, "demo_truth", people.select("contact_id", "person_id"))
    custom = related.custom_values(rng, people, now, usable)
    with scratch(con, custom) as values:
        insert_values(con, values, custom.columns[1:])
    with scratch(con, people.select("contact_id")) as added:
        refresh_search_index(con, added)  # after the custom values: their words are indexed too
    conversations = _numbered(con, conversations, "conversation_id")
    counts["conversations"] = _insert(con, "conversations", conversations)
    # From a stream of its own: the tables drawn after it stay what the same seed always gave.
    counts["messages"] = _insert_messages(con, related.messages(rng.spawn(1)[0], conversations))
    del conversations
    slim = people.select("contact_id", "created_on", "owner_id")
    counts["tickets"] = _insert(con, "tickets", related.tickets(rng, slim, now))
    notes = related.notes(rng, slim, now)
    counts["notes"] = _insert(con, "notes", notes)
    counts["media"] = _insert(con, "media", related.media(rng, slim, now))
    counts["activity"] = _insert(con, "activity", related.activity(people, notes, stages), json=("changes",))
    return counts


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pl.DataFrame, json: tuple[str, ...] = ()) -> int:
    """Append a frame to a table in one INSERT ... SELECT; the related tables number their own rows. The `json`
    columns hold JSON text, cast to the column's type (PostgreSQL casts no text to json by itself).

    Frames arrive sorted by contact_id: DuckDB's indexes take sorted keys about twice as fast.
    """
    columns = ", ".join(data.columns)
    values = ", ".join(f"CAST({name} AS JSON)" if name in json else name for name in data.columns)
    with scratch(con, data) as rows:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {values} FROM {rows}")
    return data.height


def _numbered(con: duckdb.DuckDBPyConnection, data: pl.DataFrame, column: str) -> pl.DataFrame:
    """The frame with IDs from the related records' sequence in a first column, in row order."""
    numbered = dialect(con).integer_range("0", "?")
    ids = frame(con, f"SELECT nextval('related_id_seq') AS id FROM {numbered} AS r(i)", [data.height])
    numbers = np.sort(ids["id"].to_numpy()) if data.height else np.zeros(0, dtype=np.int64)
    return data.select(pl.Series(column, numbers, dtype=pl.Int64), pl.all())


def _insert_messages(con: duckdb.DuckDBPyConnection, messages: pl.DataFrame) -> int:
    """Insert the demo's messages; each one's key (migration 013) is its conversation and place in it."""
    keyed = pl.concat([messages, demo_message_keys(messages)], how="horizontal")
    with scratch(con, keyed) as rows:
        con.execute(
            "INSERT INTO messages (message_key, conversation_id, contact_id, channel, direction, sent_at, text) "
            f"SELECT {MESSAGE_KEY_SQL}, conversation_id, contact_id, "
            f"channel, direction, sent_at, text FROM {rows} ORDER BY conversation_id, rank"
        )
    return messages.height


def demo_message_keys(messages: pl.DataFrame) -> pl.DataFrame:
    """key_low, key_high (UInt64) of each demo message: the halves of DuckDB's md5_number(concat_ws(chr(0), 'demo',
    conversation_id, rank)), bit for bit, hashed here because PostgreSQL text holds no NUL (as
    core.channels.writing.message_keys hashes a channel's messages)."""
    joined = messages.select(
        pl.concat_str([pl.lit("demo"), pl.col("conversation_id"), pl.col("rank")], separator="\x00")
    ).to_series()
    digests = b"".join([hashlib.md5(one.encode()).digest() for one in joined])
    halves = np.frombuffer(digests, dtype="<u8").reshape(-1, 2)
    return pl.DataFrame(
        {"key_low": halves[:, 0], "key_high": halves[:, 1]}, schema={"key_low": pl.UInt64, "key_high": pl.UInt64}
    )


def _ensure_owners(con: duckdb.DuckDBPyConnection) -> None:
    """Add the demo team (one admin, seven agents, no passwords: `python -m core demo` gives the admin one)
    unless they are there already. Seeding, like the contacts below: no acting user exists yet."""
    for owner in owners():
        first = slug(owner.name.split()[0])
        con.execute(
            "INSERT INTO owners (owner_id, name, email, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [owner.owner_id, owner.name, f"{first}@brightwave.io", owner.role],
        )


def _ensure_custom_fields(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Define the demo's custom fields; returns the keys whose definition fits the demo's values."""
    usable = set()
    for key, label, type_, options, identity in CUSTOM_FIELDS:
        found = con.execute("SELECT type, options FROM custom_fields WHERE key = ?", [key]).fetchall()
        if not found:
            define_custom_field(con, key, label, type_, options, is_identity=identity, actor=DEMO_ADMIN)
            usable.add(key)
        elif found[0][0] == type_ and set(options or []) <= set(found[0][1]):
            usable.add(key)
    return usable


def _now_micros(now: datetime | None) -> int:
    """The demo's 'now' in microseconds; by default the current hour, so a rerun within it matches."""
    moment = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (moment.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(microseconds=1)
