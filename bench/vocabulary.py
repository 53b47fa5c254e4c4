"""Typo search right after a write (core/views/vocabulary.py): `python -m bench.vocabulary --database /tmp/copy.duckdb`
(a copy: opening a database migrates it) or `--database postgresql://...`.

Each round edits one contact's last name to a word nobody holds (as the app writes: update_contact) and then runs
each typo search once, typed afresh; it prints the median wall and CPU time (this process, DuckDB's threads
included; on PostgreSQL the server's time is not in the CPU figure) of the edit and of each search after it, and of
the first search in a process (every vocabulary word read). The edited contact gets its name back at the end.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from core.contacts.records import get_contact, update_contact
from core.db import open_database, rows
from core.views.queries import ListView, forget_searches, list_contacts

TYPO_SEARCHES = ("Varugese", "Jonh Smith", "maria.garcai")


def forget_vocabularies() -> None:
    """Drop the process's kept vocabularies (the code before migration 041 kept them in core.views.fuzzy)."""
    try:
        from core.views.vocabulary import forget_vocabularies as forget
    except ImportError:  # before 041
        from core.views import fuzzy

        fuzzy._cache.clear()  # type: ignore[attr-defined]
        return
    forget()


def clocked(action: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run of `action`."""
    started, started_cpu = time.perf_counter(), time.process_time()
    action()
    return (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000


def run(database: str, rounds: int) -> None:
    con = open_database(database)
    contact_id, last_name = rows(con, "SELECT contact_id, last_name FROM contacts ORDER BY row_key LIMIT 1")[0]

    def search(query: str) -> Callable[[], Any]:
        def typed() -> Any:
            forget_searches()
            return list_contacts(con, ListView(search=query), "admin")

        return typed

    forget_vocabularies()
    first = [clocked(search(query)) for query in TYPO_SEARCHES]
    print(f"first typo searches in the process: {', '.join(f'{w:.0f}/{c:.0f}' for w, c in first)} ms wall/CPU")
    edits: list[tuple[float, float]] = []
    after: dict[str, list[tuple[float, float]]] = {query: [] for query in TYPO_SEARCHES}
    for round_ in range(rounds):
        contact = get_contact(con, contact_id)
        name = f"Zqvocab{round_}x{time.time_ns() % 1_000_000}"
        edit = {"last_name": name}
        edits.append(clocked(lambda: update_contact(con, contact_id, edit, contact.version, "admin")))  # noqa: B023
        for query in TYPO_SEARCHES:
            after[query].append(clocked(search(query)))
    contact = get_contact(con, contact_id)
    update_contact(con, contact_id, {"last_name": last_name}, contact.version, "admin")

    def median(figures: list[tuple[float, float]]) -> str:
        wall, cpu = statistics.median(w for w, _ in figures), statistics.median(c for _, c in figures)
        return f"{wall:7.1f} ms wall {cpu:7.1f} ms CPU"

    print(f"median of {rounds} rounds")
    print(f"  {'edit of a last name (update_contact)':<44} {median(edits)}")
    for query, figures in after.items():
        print(f"  {f'typo search {query!r} right after it':<44} {median(figures)}")
    con.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True, help="a copy of a demo database, or a postgresql:// URL")
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    run(arguments.database, arguments.rounds)
