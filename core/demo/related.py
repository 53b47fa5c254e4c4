"""Records around each contact: conversations and their messages, tickets, notes, media, the activity log and
custom values."""

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from core.demo.draw import MICROS_PER_DAY, between, choose, digits, keep, lit, micros, numbered, pick, timestamps
from core.demo.reference import media_kinds, owners, texts


def _expand(contacts: pl.DataFrame, counts: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """One row per record: the owning contact's columns repeated, and each record's rank (0 = first)."""
    rows = np.repeat(np.arange(contacts.height), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return contacts[rows], np.arange(len(rows)) - starts


def _subjects(choices: Sequence[str], rng: np.random.Generator, size: int) -> pl.Series:
    """Subjects from a list, with '{n}' filled by a five-digit order or invoice number."""
    chosen = pick(choices, rng.integers(len(choices), size=size))
    return numbered(chosen, digits(rng.integers(10_000, 100_000, size=size), 5))


def conversations(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Web chats and inbox threads; a web chat or inbox contact's first one is what created it."""
    source = contacts["source"].to_numpy()
    rate = np.select([source == "web chat", source == "inbox", source == "API"], [0.6, 1.0, 0.6], 0.4)
    first = np.isin(source, ["web chat", "inbox"]).astype(np.int64)
    counts = first + rng.poisson(rate)
    records, rank = _expand(contacts.select("contact_id", "channel", "created_on"), counts)
    size = records.height
    created = micros(records["created_on"])
    opened_it = (rank == 0) & (np.repeat(first, counts) == 1)
    started = np.where(opened_it, created, between(rng, created, np.full(size, now), 1.5))
    length = (rng.exponential(3.0, size) * 3_600_000_000 * np.where(rng.random(size) < 0.1, 24, 1)).astype(np.int64)
    # A thread still running ends at a random moment before now, not all at now.
    last = started + np.minimum(length, ((now - started) * rng.random(size)).astype(np.int64))
    recent = (now - last) < 7 * MICROS_PER_DAY
    status = np.where(recent, choose(rng, [0.5, 0.2, 0.3], size), choose(rng, [0.04, 0.03, 0.93], size))
    channel = records["channel"].fill_null("email")
    return pl.DataFrame(
        {
            "contact_id": records["contact_id"],
            "channel": channel,
            "kind": pl.Series(np.where((channel == "web").to_numpy(), "webchat", "inbox"), dtype=pl.String),
            "subject": _subjects(texts().conversation_subjects, rng, size),
            "started_at": timestamps(started),
            "last_message_at": timestamps(last),
            "message_count": pl.Series(rng.geometric(0.12, size), dtype=pl.Int32),
            "status": pick(("open", "pending", "closed"), status),
        }
    ).sort("contact_id", "started_at")


MAX_MESSAGES = 4  # the messages kept per demo conversation: its latest ones (message_count says how many it had)


def messages(rng: np.random.Generator, conversations: pl.DataFrame) -> pl.DataFrame:
    """The latest few messages of each conversation (which must have its conversation_id), oldest first.

    They alternate between the contact and the team, ending with the contact's when the thread is still waiting
    for an answer (open), spread between the conversation's start and its last message, which is the last one's.
    """
    counts = np.minimum(conversations["message_count"].to_numpy(), MAX_MESSAGES).astype(np.int64)
    records, rank = _expand(
        conversations.select("conversation_id", "contact_id", "channel", "started_at", "last_message_at", "status"),
        counts,
    )
    size = records.height
    n = np.repeat(counts, counts)
    first, last = micros(records["started_at"]), micros(records["last_message_at"])
    # The k-th of n at k/(n-1) of the way, nudged by up to a third of a step (the first and last stay put).
    step = np.where(n > 1, 1.0 / np.maximum(n - 1, 1), 0.0)
    nudge = np.where((rank > 0) & (rank < n - 1), (rng.random(size) - 0.5) * step * 0.66, 0.0)
    share = np.where(n > 1, np.clip(rank * step + nudge, 0.0, 1.0), 1.0)  # a lone message is the last one
    sent = first + ((last - first) * share).astype(np.int64)
    # Counted back from the last message: an open thread ends with the contact, others with the team.
    from_last = n - 1 - rank
    waiting = (records["status"] == "open").to_numpy()
    inbound = np.where(waiting, from_last % 2 == 0, from_last % 2 == 1) | (n == 1)
    contact_lines, team_lines = texts().contact_messages, texts().team_messages
    said = np.where(
        inbound,
        rng.integers(len(contact_lines), size=size),
        len(contact_lines) + rng.integers(len(team_lines), size=size),
    )
    text = numbered(pick((*contact_lines, *team_lines), said), digits(rng.integers(10_000, 100_000, size=size), 5))
    return pl.DataFrame(
        {
            "conversation_id": records["conversation_id"],
            "rank": pl.Series(rank, dtype=pl.Int64),
            "contact_id": records["contact_id"],
            "channel": records["channel"],
            "direction": pl.Series(np.where(inbound, "in", "out"), dtype=pl.String),
            "sent_at": timestamps(sent),
            "text": text,
        }
    )


def tickets(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Support tickets for about one contact in seven; old ones are mostly solved."""
    counts = np.where(rng.random(contacts.height) < 0.14, 1 + rng.poisson(0.4, contacts.height), 0)
    records, _ = _expand(contacts.select("contact_id", "created_on"), counts)
    size = records.height
    created = between(rng, micros(records["created_on"]), np.full(size, now))
    recent = (now - created) < 14 * MICROS_PER_DAY
    status = np.where(recent, choose(rng, [0.5, 0.2, 0.2, 0.1], size), choose(rng, [0.03, 0.02, 0.45, 0.5], size))
    return pl.DataFrame(
        {
            "contact_id": records["contact_id"],
            "subject": _subjects(texts().ticket_subjects, rng, size),
            "status": pick(("open", "pending", "solved", "closed"), status),
            "priority": pick(("low", "normal", "high", "urgent"), choose(rng, [0.2, 0.55, 0.2, 0.05], size)),
            "created_at": timestamps(created),
        }
    ).sort("contact_id", "created_at")


def notes(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Agents' notes on about one contact in five, mostly by the contact's owner."""
    counts = np.where(rng.random(contacts.height) < 0.2, 1 + rng.poisson(0.5, contacts.height), 0)
    records, _ = _expand(contacts.select("contact_id", "created_on", "owner_id"), counts)
    size = records.height
    team = [entry.owner_id for entry in owners()]
    anyone = pick(team, rng.integers(len(team), size=size))
    author = records.select(
        pl.when(lit(rng.random(size) < 0.8)).then(pl.coalesce("owner_id", pl.lit(anyone))).otherwise(pl.lit(anyone))
    ).to_series()
    openings, follow_ups = texts().note_openings, texts().note_follow_ups
    body = (
        pl.DataFrame(
            {
                "a": pick(openings, rng.integers(len(openings), size=size)),
                "b": pick(follow_ups, rng.integers(len(follow_ups), size=size)),
            }
        )
        .select(pl.concat_str("a", "b", separator=" ").str.strip_chars())
        .to_series()
    )
    return pl.DataFrame(
        {
            "contact_id": records["contact_id"],
            "author": author,
            "body": body,
            "created_at": timestamps(between(rng, micros(records["created_on"]), np.full(size, now))),
        }
    ).sort("contact_id", "created_at")


def media(rng: np.random.Generator, contacts: pl.DataFrame, now: int) -> pl.DataFrame:
    """Attachment metadata (photos, PDFs, voice messages) for about one contact in eleven."""
    counts = np.where(rng.random(contacts.height) < 0.09, 1 + rng.poisson(0.6, contacts.height), 0)
    records, _ = _expand(contacts.select("contact_id", "created_on"), counts)
    size = records.height
    kinds = media_kinds()
    kind = choose(rng, [entry.weight for entry in kinds], size)
    low = np.log(np.array([entry.smallest_bytes for entry in kinds], dtype=float))[kind]
    high = np.log(np.array([entry.largest_bytes for entry in kinds], dtype=float))[kind]
    file_names = numbered(
        pick([entry.file_name for entry in kinds], kind), digits(rng.integers(1_000, 10_000, size=size), 4)
    )
    return pl.DataFrame(
        {
            "contact_id": records["contact_id"],
            "file_name": file_names,
            "mime_type": pick([entry.mime_type for entry in kinds], kind),
            "size_bytes": pl.Series(np.exp(low + (high - low) * rng.random(size)).astype(np.int64)),
            "created_at": timestamps(between(rng, micros(records["created_on"]), np.full(size, now))),
        }
    ).sort("contact_id", "created_at")


def _json_changes(fields: Sequence[str], before: Mapping[str, pl.Expr] | None = None) -> pl.Expr:
    """{"field": {"before": .., "after": ..}} for each field with a value, as the app logs changes."""

    def quoted(value: pl.Expr) -> pl.Expr:
        # String concatenation is twice as fast as struct.json_encode; every value here is a string.
        escaped = value.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        return pl.when(value.is_null()).then(pl.lit("null")).otherwise('"' + escaped + '"')

    before = before or {}
    pieces = [
        pl.when(pl.col(field).is_not_null()).then(
            pl.concat_str(
                pl.lit(f'"{field}": {{"before": '),
                quoted(before.get(field, pl.lit(None, pl.String))),
                pl.lit(', "after": '),
                quoted(pl.col(field)),
                pl.lit("}"),
            )
        )
        for field in fields
    ]
    return "{" + pl.concat_str(pieces, separator=", ", ignore_nulls=True) + "}"


def activity(contacts: pl.DataFrame, written_notes: pl.DataFrame, stages: list[str]) -> pl.DataFrame:
    """A 'created' entry per contact, stage changes, blocks and notes: who, when and what changed."""
    actor = (
        pl.when(pl.col("source").is_in(["web chat", "inbox"]))
        .then(pl.lit("system"))
        .when(pl.col("source") == "API")
        .then(pl.lit("api"))
        .otherwise(pl.coalesce("owner_id", pl.lit("admin")))
    )
    staff = pl.coalesce("owner_id", pl.lit("admin"))
    previous = {stage: stages[n - 1] for n, stage in enumerate(stages) if n}
    created = contacts.select(
        "contact_id",
        happened_at="created_on",
        actor=actor,
        action=pl.lit("created"),
        changes=_json_changes(("first_name", "last_name", "email", "phone", "lead_stage", "owner_id", "source")),
    )
    updated = pl.col("last_updated") > pl.col("created_on")
    moved = contacts.filter(updated & pl.col("lead_stage").is_in(list(previous)))
    staged = moved.select(
        "contact_id",
        happened_at="last_updated",
        actor=staff,
        action=pl.lit("updated"),
        changes=_json_changes(["lead_stage"], {"lead_stage": pl.col("lead_stage").replace_strict(previous)}),
    )
    blocked = contacts.filter("blocked").select(
        "contact_id",
        happened_at="blocked_on",
        actor=staff,
        action=pl.lit("blocked"),
        changes=pl.lit('{"blocked": {"before": false, "after": true}}'),
    )
    noted = written_notes.select(
        "contact_id",
        happened_at="created_at",
        actor="author",
        action=pl.lit("note added"),
        changes=pl.lit(None, pl.String),
    )
    return pl.concat([created, staged, blocked, noted]).sort("contact_id", "happened_at")


def custom_values(rng: np.random.Generator, contacts: pl.DataFrame, now: int, usable: set[str]) -> pl.DataFrame:
    """Values in canonical text for customers and a share of everyone else, a column per field this demo defined
    (as custom_values holds them), a row per contact holding any."""
    size = contacts.height
    customer = contacts["lead_stage"].is_in(["Customer", "Churned"]).to_numpy()
    spent = np.exp(rng.normal(6.0, 1.2, size))
    value = np.where(rng.random(size) < 0.3, np.round(spent), np.round(spent * 100) / 100)
    purchase = between(rng, micros(contacts["created_on"]), np.full(size, now), 0.5)
    plan = np.where(customer, choose(rng, [0.25, 0.55, 0.2], size), choose(rng, [0.85, 0.15, 0.0], size))
    subscribed = contacts["email_subscription"] == "subscribed"
    values = {
        "customer_number": contacts["customer_number"],
        "lifetime_value": keep(_canonical_numbers(value), customer | (rng.random(size) < 0.05)),
        "newsletter_opt_in": keep(
            pick(("false", "true"), (subscribed.to_numpy() ^ (rng.random(size) < 0.05)).astype(np.int64)),
            contacts["email"].is_not_null().to_numpy() & (rng.random(size) < 0.6),
        ),
        "last_purchase_at": keep(timestamps(purchase).dt.strftime("%Y-%m-%d %H:%M:%S"), customer),
        "plan": keep(pick(("Free", "Pro", "Enterprise"), plan), customer | (rng.random(size) < 0.2)),
    }
    kept = {key: pl.Series(key, column, dtype=pl.String) for key, column in values.items() if key in usable}
    wide = pl.DataFrame({"contact_id": contacts["contact_id"], **kept})
    if not kept:
        return wide.clear()
    return wide.filter(pl.any_horizontal(pl.exclude("contact_id").is_not_null())).sort("contact_id")


def _canonical_numbers(values: np.ndarray) -> pl.Series:
    """Numbers as the app stores them: '42' for whole numbers, '120.5' otherwise."""
    series = pl.Series(values)
    whole = series == series.floor()
    return (
        pl.DataFrame({"v": series, "w": whole})
        .select(pl.when("w").then(pl.col("v").cast(pl.Int64).cast(pl.String)).otherwise(pl.col("v").cast(pl.String)))
        .to_series()
    )
