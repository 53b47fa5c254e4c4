"""A child process for the kill tests: `python -m tests.faults.driver OP DATABASE`.

It prepares one operation (reading what it needs), prints "ready", runs it (one transaction), then prints
"done SECONDS". The parent kills it with SIGKILL at a random moment after "ready".
"""

import sys
import time

import polars as pl

from core.channels.ingest import ingest_lines
from core.db import open_database
from core.duplicates.merge import merge_groups
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.bulk import Selection, delete, selection_count
from core.views.queries import ListView
from tests.faults.workspace import webchat

FILLERS = 2000


def _import(con):
    rows = [f"filler{i}@example.com,Updated {i}" for i in range(0, FILLERS, 2)]
    rows += [f"new{i}@example.com,New {i}" for i in range(3000)]
    table = read_table("kill.csv", ("email,Company\n" + "\n".join(rows) + "\n").encode())
    plan = plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers), mode="upsert"))
    return lambda: commit_import(con, plan, "admin")


def _bulk_delete(con):
    selection = Selection(view=ListView(search="filler1"))
    count = selection_count(con, selection, "admin")
    return lambda: delete(con, selection, count, "admin")


def _merge(con):
    pairs = [(f"filler{2 * i}", f"filler{2 * i + j}") for i in range(500) for j in (0, 1)]
    groups = pl.DataFrame(pairs, schema=["primary_id", "contact_id"], orient="row")
    return lambda: merge_groups(con, groups, "admin")


def _ingest(con):
    lines = [webchat(f"filler{i}", "again", "2026-11-28T10:00:00Z") for i in range(FILLERS)]
    lines += [webchat(f"visitor{i}", "hello", "2026-11-28T10:00:00Z") for i in range(3000)]
    return lambda: ingest_lines(con, lines, "channels")


OPERATIONS = {"import": _import, "bulk delete": _bulk_delete, "merge": _merge, "ingest": _ingest}


def main(operation: str, database: str) -> None:
    con = open_database(database)
    run = OPERATIONS[operation](con)
    print("ready", flush=True)
    started = time.perf_counter()
    run()
    print(f"done {time.perf_counter() - started:.3f}", flush=True)
    con.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
