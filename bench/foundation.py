"""List, search and update at 1,000,000 contacts, and the app's peak memory (spec: Speed)."""

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import duckdb

from bench.common import demo_database, median_ms, report
from core.contacts.records import get_contact, update_contact
from core.db import open_database, rows
from core.views.queries import ListView, forget_searches, list_contacts
from core.views.vocabulary import Vocabulary, forget_vocabularies, vocabulary

CONTACTS = 1_000_000
# Issue 17's targets at 1,000,000 contacts on 2 cores (the spec's were 100 ms for a page and 200 ms for a search).
LIST_TARGET_MS = 30
SEARCH_TARGET_MS = 60
ROOT = Path(__file__).resolve().parent.parent

# The app itself, in a fresh process: open the database, render the list, search and a contact.
_APP_MEMORY_SCRIPT = """
import json, os, resource, sys
from streamlit.testing.v1 import AppTest
os.environ["CONTACTS_DB"] = sys.argv[1]
root = sys.argv[2]
app = AppTest.from_file(root + "/app.py", default_timeout=120).run()
app.switch_page("pages/contacts.py").run()
app.query_params["q"] = "smith"
app.run()
app.switch_page("pages/contact.py")
app.query_params["id"] = sys.argv[3]
app.run()
assert not app.exception, app.exception
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def app_peak_memory_mb(database: Path, contact_id: str) -> float:
    """Peak RSS of a process running the app's pages on this database."""
    done = subprocess.run(
        [sys.executable, "-c", _APP_MEMORY_SCRIPT, str(database), str(ROOT), contact_id],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def _cold_vocabulary(con: duckdb.DuckDBPyConnection, kind: Vocabulary) -> None:
    """Read a vocabulary as a process's first typo search does (a later one reads only the words added since)."""
    forget_vocabularies()
    vocabulary(con, kind)


def typo_search_figures(con: duckdb.DuckDBPyConnection, user: str, picks: Iterator[str]) -> None:
    """Searches with typos (close spellings after exact hits), warm, and right after a write."""
    report("search vocabulary, first read in a process: names", once_ms(partial(_cold_vocabulary, con, "names")), None)
    report(
        "search vocabulary, first read in a process: email local parts",
        once_ms(partial(_cold_vocabulary, con, "locals")),
        None,
    )
    for query in ("Varugese", "Jonh Smith", "Smith John", "maria.garcai"):
        report(
            f"search with typos '{query}'",
            median_ms(partial(typed_afresh, con, ListView(search=query), user)),
            200,
        )
    times = []
    for contact_id in picks:
        contact = get_contact(con, contact_id)
        update_contact(con, contact_id, {"job_title": f"Bench {contact.version}"}, contact.version, user)
        times.append(once_ms(lambda: list_contacts(con, ListView(search="Jonh Smith"), user)))
    report("search with typos right after a write", statistics.median(times), None)


def typed_afresh(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> None:
    """A search as if typed for the first time since the last write: the searches this process keeps dropped."""
    forget_searches()
    list_contacts(con, view, user)


def once_ms(action: Callable[[], object]) -> float:
    """Wall time of one run of `action` in milliseconds."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def run() -> None:
    """Print each figure beside the spec's target."""
    database = demo_database(CONTACTS)
    con = open_database(database, memory_limit="1GB")
    user = "admin"
    sample = [row[0] for row in rows(con, "SELECT contact_id FROM contacts USING SAMPLE 200 ROWS")]
    print(f"Foundation at {CONTACTS:,} contacts (median of 7 runs)")
    report(
        "list page: All contacts, last updated, 50 rows + total",
        median_ms(lambda: list_contacts(con, ListView(), user)),
        LIST_TARGET_MS,
    )
    report(
        "list page: Unassigned, by last name, page 200",
        median_ms(
            lambda: list_contacts(
                con, ListView(segment="unassigned", sort="last_name", descending=False, page=200), user
            )
        ),
        LIST_TARGET_MS,
    )
    report(
        "list page: My contacts, by created on",
        median_ms(lambda: list_contacts(con, ListView(segment="mine", sort="created_on"), user)),
        LIST_TARGET_MS,
    )
    # Read from the search index (core/views/search_index.py): a word, a piece of an email, a phone as typed, a
    # dropdown value held by 157,000 contacts, a domain held by 250,000 (past the index's limit: scanned), nothing.
    for query in ("smith", "maria.gar", "555 01", "Pro", "gmail", "zzzq"):
        report(
            f"search '{query}' (first page + total)",
            median_ms(partial(typed_afresh, con, ListView(search=query), user)),
            SEARCH_TARGET_MS,
        )
    # A search's conditions are kept until the next write (core/views/queries.py): its next pages reuse them.
    report(
        "search 'smith', next page",
        median_ms(partial(list_contacts, con, ListView(search="smith", page=2), user)),
        LIST_TARGET_MS,
    )
    typo_search_figures(con, user, iter(random.Random(5).choices(sample, k=5)))
    picks = iter(random.Random(3).choices(sample, k=20))

    def update_one() -> None:
        contact = get_contact(con, next(picks))
        update_contact(con, contact.contact_id, {"job_title": f"Bench {contact.version}"}, contact.version, user)

    report("contact update (read, validate, write, activity)", median_ms(update_one, runs=15, warmup=2), None)
    con.close()
    report("app peak memory with the database open", app_peak_memory_mb(database, sample[0]), 2048, "MB")
