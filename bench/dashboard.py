"""The dashboard at 1,000,000 contacts (spec: Speed, the dashboard in under 1 s).

Its figures run on a scratch copy of the benchmark database after a duplicate detection run, so the
duplicate rate reads real groups. The page keeps the figures until the write stamp (core/stamps.py) moves: a page
shown again after no write costs only the stamp (ui/dashboard.py).
"""

import shutil
import time
from datetime import timedelta

import duckdb

from bench.common import BENCH_DIR, demo_database, median_ms, report
from core import dashboard
from core.db import open_database
from core.duplicates.store import find_duplicates
from core.stamps import contacts_stamp

CONTACTS = 1_000_000


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each figure the page computes on a change of the data, timed once (ms)."""
    span = dashboard.created_range(con)
    assert span is not None
    steps = {
        "KPIs and field completeness (one scan)": lambda: dashboard.kpis_and_completeness(con),
        "created range": lambda: dashboard.created_range(con),
        "over time (a year by week, by source)": lambda: dashboard.contacts_over_time(
            con, span[1] - timedelta(days=365), span[1], "week", "source"
        ),
        "stages, owners, countries, subscriptions (one scan)": lambda: dashboard.breakdowns(con),
        "top tags": lambda: dashboard.top_tags(con),
        "duplicate rate": lambda: dashboard.duplicate_rate(con),
        "imports and ingest": lambda: dashboard.recent_activity(con),
    }
    timings = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        timings[name] = (time.perf_counter() - started) * 1000
    return timings


def run() -> None:
    """Print the whole dashboard's time beside the target, and each figure's share of it."""
    scratch = BENCH_DIR / "dashboard_scratch.duckdb"
    shutil.copyfile(demo_database(CONTACTS), scratch)
    try:
        con = open_database(scratch, memory_limit="1GB")
        detection = find_duplicates(con, "admin")
        print(
            f"Dashboard at {CONTACTS:,} contacts (after a detection run: {detection.exact_pairs:,} exact and "
            f"{detection.likely_pairs:,} likely pairs; median of 7 runs)"
        )
        report("dashboard: every figure, uncached", median_ms(lambda: _figures(con)), 1000)
        report(
            "dashboard: shown again with no write (the write stamp only)", median_ms(lambda: contacts_stamp(con)), None
        )
        for name, spent in _figures(con).items():
            report(f"  {name}", spent, None)
        con.close()
    finally:
        scratch.unlink(missing_ok=True)
        scratch.with_suffix(".duckdb.wal").unlink(missing_ok=True)


if __name__ == "__main__":
    run()
