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
from core.duplicates.merge import merge_contacts
from core.duplicates.merge_plan import preview_merge

CONTACTS = 1_000_000
USER = "admin"
CHILD = """
import resource, sys, time
from core.db import open_database
from core.duplicates import find_duplicates
con = open_database(sys.argv[1])
started = time.perf_counter()
run = find_duplicates(con, "admin")  # an active user (detection checks permissions)
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


def _sets_of_25(con, sets: int) -> list[list[str]]:
    """Disjoint sets of 25 contacts with conversations, notes and activity, as a big merge would have."""
    ids = [
        contact_id
        for (contact_id,) in rows(
            con, "SELECT DISTINCT contact_id FROM conversations ORDER BY hash(contact_id) LIMIT $n", {"n": 25 * sets}
        )
    ]
    return [ids[i : i + 25] for i in range(0, len(ids), 25)]


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

        sets = iter(_sets_of_25(con, 9))  # the preview's, then one per merge (warm-up and 7 timed)
        ids = next(sets)
        report("merge preview of 25 contacts", median_ms(lambda: preview_merge(con, ids[0], ids[1:]), runs=5), 200)

        def merge_next_25() -> None:  # each run merges 25 other contacts, chosen beforehand
            chosen = next(sets)
            merge_contacts(con, chosen[0], chosen[1:], USER)

        report("merge of 25 contacts (one transaction)", median_ms(merge_next_25), 200)
        con.close()
    finally:
        scratch.unlink(missing_ok=True)
        scratch.with_suffix(".duckdb.wal").unlink(missing_ok=True)


if __name__ == "__main__":
    run()
