"""Filters, saved segments and bulk actions at 1,000,000 contacts (spec: Speed; issue: filters and segments).

Bulk tagging and deleting change data, so they run on a scratch copy of the benchmark database.
"""

import random
import shutil
import uuid

from bench.common import BENCH_DIR, demo_database, median_ms, report
from core.db import open_database, rows
from core.views.bulk import Selection, add_tags, delete
from core.views.filters import parse_filter
from core.views.queries import ListView, count_view, list_contacts
from core.views.segments import delete_segment, save_segment

CONTACTS = 1_000_000
BULK_SIZE = 100_000
USER = "admin"
SEGMENT_TARGET_MS = 50  # issue 17: a saved segment with custom-field conditions at 1,000,000 contacts

THREE_CONDITIONS = parse_filter(
    {
        "conditions": [
            {"field": "lead_stage", "op": "any_of", "value": ["Lead", "Qualified"]},
            {"field": "email", "op": "contains", "value": "gmail"},
            {"field": "created_on", "op": "within_last_days", "value": 365},
        ]
    }
)
# A saved segment mixing system and custom fields, with an OR group.
HIGH_VALUE = parse_filter(
    {
        "conditions": [
            {"field": "custom.plan", "op": "any_of", "value": ["Pro", "Enterprise"]},
            {"field": "custom.lifetime_value", "op": "greater", "value": 500},
            {
                "match": "any",
                "conditions": [
                    {"field": "tags", "op": "has_any", "value": ["VIP", "Newsletter"]},
                    {"field": "email_subscription", "op": "any_of", "value": ["subscribed"]},
                ],
            },
        ]
    }
)


def _reads(database: object) -> None:
    con = open_database(database, memory_limit="1GB")
    total = count_view(con, ListView(filter=THREE_CONDITIONS), USER)
    report(
        f"filter, 3 conditions: count only ({total:,} match)",
        median_ms(lambda: count_view(con, ListView(filter=THREE_CONDITIONS), USER)),
        100,
    )
    report(
        "filter, 3 conditions: first page + count",
        median_ms(lambda: list_contacts(con, ListView(filter=THREE_CONDITIONS), USER)),
        100,
    )
    saved = save_segment(con, f"Bench {uuid.uuid4().hex[:8]}", HIGH_VALUE, USER)
    try:
        view = ListView(segment=saved.key)
        report(
            f"saved segment (custom fields, OR group): first page + count ({count_view(con, view, USER):,})",
            median_ms(lambda: list_contacts(con, view, USER)),
            SEGMENT_TARGET_MS,
        )
        report(
            "saved segment, by last name, page 20",
            median_ms(lambda: list_contacts(con, ListView(segment=saved.key, sort="last_name", page=20), USER)),
            SEGMENT_TARGET_MS,
        )
    finally:
        delete_segment(con, saved.key, actor="admin")
        con.close()


def _writes(database: object) -> None:
    scratch = BENCH_DIR / "bulk_scratch.duckdb"
    shutil.copyfile(database, scratch)
    try:
        con = open_database(scratch, memory_limit="1GB")
        everyone = [row[0] for row in rows(con, "SELECT contact_id FROM contacts")]
        picks = random.Random(5)
        # Chosen before timing: three samples to tag, then three disjoint ones to delete.
        to_tag = iter(enumerate(picks.sample(everyone, BULK_SIZE) for _ in range(3)))
        report(
            f"bulk add a tag to {BULK_SIZE:,} chosen contacts (with activity)",
            median_ms(
                lambda: add_tags(con, Selection(ids=(run := next(to_tag))[1]), f"Bench {run[0]}", USER),
                runs=3,
                warmup=0,
            ),
            None,
        )
        segment_tag = iter(range(100))
        report(
            "bulk add a tag to the whole view: filter of 3 conditions",
            median_ms(
                lambda: add_tags(
                    con, Selection(view=ListView(filter=THREE_CONDITIONS)), f"View {next(segment_tag)}", USER
                ),
                runs=3,
                warmup=0,
            ),
            None,
        )
        doomed = picks.sample(everyone, 3 * BULK_SIZE)
        left = iter([doomed[i::3] for i in range(3)])
        report(
            f"bulk delete {BULK_SIZE:,} contacts (logged, with related records)",
            median_ms(lambda: delete(con, Selection(ids=next(left)), BULK_SIZE, USER), runs=3, warmup=0),
            None,
        )
        con.close()
    finally:
        scratch.unlink(missing_ok=True)
        scratch.with_suffix(".duckdb.wal").unlink(missing_ok=True)


def run() -> None:
    """Print each figure beside its target."""
    database = demo_database(CONTACTS)
    print(f"Filters, segments and bulk actions at {CONTACTS:,} contacts (median of 7 runs; bulk: of 3)")
    _reads(database)
    _writes(database)
