"""Crash safety (issue 14, point 8): a child process killed with SIGKILL at a seeded random moment in the
middle of an import, a bulk delete, a merge or an ingest leaves the database as it was before or as it is
after, never between: it opens, every table's row count is all-before or all-after, no row points at a
missing contact, versions are consistent.

FAULT_KILLS (default 10, `make test-faults` 50) kills per operation; FAULT_SEED the seed.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.views.search_index import rebuild_search_index
from tests.faults.driver import FILLERS, OPERATIONS
from tests.faults.invariants import check
from tests.faults.workspace import open_workspace, webchat

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("FAULT_KILLS", "10"))
SEED = int(os.environ.get("FAULT_SEED", "14"))


def table_counts(path: Path) -> dict[str, int]:
    """Rows of every stored table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 contacts with a note each and a Web Chat conversation each."""
    path = tmp_path_factory.mktemp("kills") / "base.duckdb"
    con = open_workspace(path)
    con.execute(
        "INSERT INTO contacts (contact_id, email, first_name, created_on, last_updated) "
        "SELECT 'filler' || i, 'filler' || i || '@example.com', 'Filler', TIMESTAMP '2024-01-01', "
        f"TIMESTAMP '2024-01-01' FROM range({FILLERS}) t(i)"
    )
    rebuild_search_index(con)  # written past the write paths that keep the search index
    con.execute(
        "INSERT INTO notes (contact_id, author, body, created_at) "
        "SELECT contact_id, 'admin', 'a note', TIMESTAMP '2024-01-02' FROM contacts WHERE contact_id LIKE 'filler%'"
    )
    from core.channels.ingest import ingest_lines

    ingest_lines(con, [webchat(f"filler{i}") for i in range(FILLERS)], "channels")
    con.close()
    return path


def _driver(operation: str, database: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.driver", operation, str(database)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _complete(operation: str, base: Path, folder: Path) -> tuple[dict[str, int], float]:
    """The counts after the operation ran to its end, and how long it took."""
    database = folder / "complete.duckdb"
    shutil.copyfile(base, database)
    child = _driver(operation, database)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err[-2000:]
    seconds = float(out.split("done ")[1])
    return table_counts(database), seconds


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_kill_at_any_moment_leaves_all_before_or_all_after(operation, base, tmp_path, tally):
    before = table_counts(base)
    after, seconds = _complete(operation, base, tmp_path)
    assert after != before, "the operation changed nothing: the test would prove nothing"
    chance = random.Random(f"{SEED}-{operation}")
    failures, states = [], {"before": 0, "after": 0}
    for kill in range(KILLS):
        database = tmp_path / f"kill{kill}.duckdb"
        shutil.copyfile(base, database)
        child = _driver(operation, database)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(chance.uniform(0, seconds * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        problems = check(database)
        counts = table_counts(database) if not problems or "does not open" not in problems[0] else {}
        if counts == before:
            states["before"] += 1
        elif counts == after:
            states["after"] += 1
        else:
            problems.append("the counts are neither all-before nor all-after")
        if problems:
            failures.append((kill, problems))
        for leftover in (database, Path(f"{database}.wal")):
            leftover.unlink(missing_ok=True)
    tally(f"kill -9 during {operation}", KILLS, len(failures))
    print(f"{operation}: {KILLS} kills in a {seconds:.2f} s operation: {states}")
    assert failures == []
