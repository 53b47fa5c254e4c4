"""Duplicates and merge at 1,000,000 contacts: exact groups, likely duplicates (time and peak memory),
accuracy against the demo's labels, a merge preview and a merge of 25 contacts.

Detection writes its pairs and merging deletes contacts, so both run on a scratch copy of the database;
likely detection runs in a child process so its peak memory is its own.
"""

import shutil
import subprocess
import sys
import time
import uuid

from bench.accuracy import demo_accuracy, show
from bench.common import BENCH_DIR, demo_database, median_ms, report
from core.db import open_database, rows
from core.duplicates import duplicate_groups, exact_pairs, group_members
from core.merge import merge_contacts, preview_merge

CONTACTS = 1_000_000
USER = "admin"
CHILD = """
import resource, sys, time
from core.db import open_database
from core.duplicates import find_duplicates
con = open_database(sys.argv[1])
started = time.perf_counter()
run = find_duplicates(con, "bench")
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(time.perf_counter() - started, peak_mb, run.exact_pairs, run.likely_pairs)
"""


def _likely_in_child(path: str) -> tuple[float, float, int]:
    """Seconds, peak MB and likely pairs of a full detection run in a fresh process.

    The child reports its own peak: RUSAGE_CHILDREN would also count the demo builder if it ran first.
    """
    done = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, check=True)
    seconds, peak, _exact, likely = done.stdout.split()
    return float(seconds), float(peak), int(likely)


def _twenty_five(con) -> list[str]:
    """25 contacts with conversations, notes and activity, as a big merge would have."""
    return [
        contact_id
        for (contact_id,) in rows(
            con, "SELECT DISTINCT contact_id FROM conversations ORDER BY hash(contact_id) LIMIT 25"
        )
    ]


def run() -> None:
    source = demo_database(CONTACTS)
    scratch = BENCH_DIR / f"duplicates_{uuid.uuid4().hex[:8]}.duckdb"
    shutil.copy(source, scratch)
    try:
        print(f"Duplicates and merge, {CONTACTS:,} contacts")
        con = open_database(scratch)
        started = time.perf_counter()
        groups = group_members(exact_pairs(con))
        report("exact duplicate groups (pairs and groups)", (time.perf_counter() - started), 3, "s")
        print(f"    {groups['group_id'].n_unique():,} exact groups, {groups.height:,} contacts")
        con.close()

        seconds, peak, likely = _likely_in_child(str(scratch))
        report("likely duplicates (exact + likely, stored)", seconds, 60, "s")
        report("  peak memory of that run", peak, 2048, "MB")
        print(f"    {likely:,} likely pairs kept (score >= 0.5)")

        con = open_database(scratch)
        result = demo_accuracy(con)
        show("demo 1M", result, target=False)
        members = duplicate_groups(con)
        print(f"    {members['group_id'].n_unique():,} groups at the default score, {members.height:,} contacts")

        ids = _twenty_five(con)
        report("merge preview of 25 contacts", median_ms(lambda: preview_merge(con, ids[0], ids[1:]), runs=5), 200)
        times = []
        for _ in range(3):
            ids = _twenty_five(con)
            started = time.perf_counter()
            merge_contacts(con, ids[0], ids[1:], USER)
            times.append((time.perf_counter() - started) * 1000)
        report("merge of 25 contacts (one transaction)", sorted(times)[1], 200)
        con.close()
    finally:
        scratch.unlink(missing_ok=True)
        scratch.with_suffix(".duckdb.wal").unlink(missing_ok=True)


if __name__ == "__main__":
    run()
