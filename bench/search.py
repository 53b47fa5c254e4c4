"""The list and search figures of bench/foundation.py with the CPU time of each beside its wall time, on a database of
your choosing: `python -m bench.search --database /tmp/copy_1m.duckdb` (default: the 1,000,000-contact demo under
data/bench). On a shared machine the wall time follows the load; the CPU time (this process, DuckDB's threads
included) much less. Open a copy when others change the schema: opening a database migrates it."""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from bench.common import demo_database
from bench.foundation import CONTACTS, LIST_TARGET_MS, SEARCH_TARGET_MS
from core.db import open_database
from core.views.queries import ListView, forget_searches, list_contacts

SEARCHES = ("smith", "maria.gar", "555 01", "Pro", "gmail", "zzzq")
# Found only in custom values (whole words, search_custom_words): a customer number of the demo, a dropdown option
# held by 50,000 contacts.
CUSTOM_SEARCHES = ("CUS-16147954", "Enterprise")
TYPO_SEARCHES = ("Varugese", "Jonh Smith", "maria.garcai")
TYPO_TARGET_MS = 200


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `action` over `runs` runs, after one warm-up."""
    action()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def figures(con: duckdb.DuckDBPyConnection, user: str = "admin") -> list[tuple[str, Callable[[], object], int]]:
    """(name, action, target ms) for each list page and search, a search typed afresh (kept searches dropped)."""

    def typed(query: str) -> Callable[[], object]:
        def search() -> object:
            forget_searches()
            return list_contacts(con, ListView(search=query), user)

        return search

    unassigned = ListView(segment="unassigned", sort="last_name", descending=False, page=200)
    next_page = ListView(search="smith", page=2)  # a kept search's next page
    return [
        ("list page: All contacts", lambda: list_contacts(con, ListView(), user), LIST_TARGET_MS),
        ("list page: Unassigned, by last name, page 200", lambda: list_contacts(con, unassigned, user), LIST_TARGET_MS),
        *((f"search '{query}'", typed(query), SEARCH_TARGET_MS) for query in (*SEARCHES, *CUSTOM_SEARCHES)),
        ("search 'smith', next page", lambda: list_contacts(con, next_page, user), LIST_TARGET_MS),
        *((f"search with typos '{query}'", typed(query), TYPO_TARGET_MS) for query in TYPO_SEARCHES),
    ]


def run(database: Path | None = None, runs: int = 7) -> None:
    """Print each figure's median wall and CPU time beside its target."""
    con = open_database(database or demo_database(CONTACTS), memory_limit="1GB")
    print(f"List and search (median of {runs} runs: wall, CPU)")
    for name, action, target in figures(con):
        wall, cpu = timed(action, runs)
        verdict = "ok" if wall <= target else "OVER TARGET"
        print(f"  {name:<48} {wall:8.1f} ms wall {cpu:8.1f} ms CPU   target < {target} ms  {verdict}")
    con.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, help="a copy of the 1M demo (default: data/bench's)")
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    run(arguments.database, arguments.runs)
