"""Ingesting 100,000 channel events (spec: 100,000 events in under 10 s), on a fresh and on a busy database."""

import json
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import BENCH_DIR, report
from core.channels.ingest import ingest_file
from core.contacts.fields import CHANNELS
from core.db import open_database, rows

EVENTS = 100_000
TARGET_MS = 10_000
FIRST = ("Maria", "James", "Aiko", "Lucas", "Fatima", "Wei", "Olga", "Diego", "Sofia", "Noah")
LAST = ("Lopez", "Smith", "Tanaka", "Silva", "Khan", "Chen", "Ivanova", "Garcia", "Rossi", "Brown")
BROWSERS = ("Chrome 131", "Safari 18", "Firefox 133", "Edge 131")
INBOX_CHANNELS = [channel for channel in CHANNELS if channel != "web"]


def _person(rng: random.Random, number: int) -> dict[str, str]:
    """Name, email and phone a visitor or sender may give, each only sometimes."""
    given: dict[str, str] = {}
    if rng.random() < 0.4:
        given["name"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if rng.random() < 0.25:
        given["email"] = f"person{number}@example.com"
    if rng.random() < 0.15:
        given["phone"] = f"+1 415 {number % 1000:03d} {number % 10000:04d}"
    return given


def _webchat(rng: random.Random, at: datetime, visitors: int) -> dict[str, object]:
    event: dict[str, object] = {"type": "webchat", "at": at.isoformat()}
    if rng.random() < 0.7:  # a cookie: often a visitor seen before
        number = rng.randrange(visitors)
        event["contact_id"] = f"visitor{number:07d}"
        event |= _person(rng, number)
    else:
        event["ip_address"] = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
    event |= {
        "browser": rng.choice(BROWSERS),
        "os": "macOS",
        "device": "desktop",
        "page_url": f"https://shop.example/p/{rng.randrange(500)}",
        "utm_source": "google",
    }
    if rng.random() < 0.5:
        event["text"] = "Hello, is this in stock?"
    return event


def _inbox(rng: random.Random, at: datetime, senders: int) -> dict[str, object]:
    number = rng.randrange(senders)
    event: dict[str, object] = {
        "type": "inbox",
        "channel": rng.choice(INBOX_CHANNELS),
        "social_id": f"sender{number:07d}",
        "at": at.isoformat(),
        "text": "Hi there",
    }
    return event | _person(rng, 1_000_000 + number)


def write_events(path: Path, count: int = EVENTS, seed: int = 5) -> None:
    """A realistic mix: 55% Web Chat (70% with a cookie), 45% Inbox on every channel, 0.5% malformed."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            at = start + timedelta(seconds=index * 6)
            if rng.random() < 0.005:
                out.write('{"type": "webchat", "at": \n')
                continue
            event = _webchat(rng, at, count // 4) if rng.random() < 0.55 else _inbox(rng, at, count // 5)
            out.write(json.dumps(event) + "\n")


def _cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _timed_ingest(database: Path, events: Path) -> tuple[float, dict[str, object]]:
    """Wall time of one run in ms, and its counts with the CPU seconds it used (all threads).

    CPU beside wall time shows how much of a slow figure was waiting for a busy machine's cores.
    """
    con = open_database(database, memory_limit="1GB")
    started, cpu = time.perf_counter(), _cpu_seconds()
    done = ingest_file(con, events, "channels")  # the system actor (permissions: channels.ingest)
    elapsed = (time.perf_counter() - started) * 1000
    used = round(_cpu_seconds() - cpu, 1)
    con.close()
    counts = done.model_dump(exclude={"malformed", "run_id"}) | {"malformed": len(done.malformed)}
    return elapsed, counts | {"cpu_seconds": used}


def run() -> None:
    """Print each figure beside the spec's target."""
    print(f"Channels: ingesting {EVENTS:,} events (one run, end to end from the file)")
    with tempfile.TemporaryDirectory() as folder:
        events, fresh = Path(folder) / "events.jsonl", Path(folder) / "fresh.duckdb"
        write_events(events)
        elapsed, counts = _timed_ingest(fresh, events)
        report("100k events into an empty database", elapsed, TARGET_MS)
        print(f"    {counts}")
        elapsed, counts = _timed_ingest(fresh, events)
        report("the same 100k again (every contact returning)", elapsed, TARGET_MS)
        print(f"    {counts}")
        con = open_database(fresh)
        blocked = [row[0] for row in rows(con, "SELECT contact_id FROM contacts USING SAMPLE 2000 ROWS")]
        con.execute("UPDATE contacts SET blocked = true WHERE contact_id IN (SELECT unnest($ids))", {"ids": blocked})
        con.close()
        elapsed, counts = _timed_ingest(fresh, events)
        report("again with 2,000 contacts blocked", elapsed, TARGET_MS)
        print(f"    {counts}")
        demo = BENCH_DIR / "demo_1000000.duckdb"
        if demo.exists():
            busy = Path(folder) / "busy.duckdb"
            shutil.copyfile(demo, busy)
            elapsed, counts = _timed_ingest(busy, events)
            report("100k events into the 1,000,000-contact demo", elapsed, TARGET_MS)
            print(f"    {counts}")
