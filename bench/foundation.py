"""List, search and update at 1,000,000 contacts, and the app's peak memory (spec: Speed)."""

import json
import random
import subprocess
import sys
from pathlib import Path

from bench.common import demo_database, median_ms, report
from core.contacts.records import get_contact, update_contact
from core.db import open_database, rows
from core.views.queries import ListView, list_contacts

CONTACTS = 1_000_000
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
        100,
    )
    report(
        "list page: Unassigned, by last name, page 200",
        median_ms(
            lambda: list_contacts(
                con, ListView(segment="unassigned", sort="last_name", descending=False, page=200), user
            )
        ),
        100,
    )
    report(
        "list page: My contacts, by created on",
        median_ms(lambda: list_contacts(con, ListView(segment="mine", sort="created_on"), user)),
        100,
    )
    for query in ("smith", "maria.gar", "555 01", "Pro"):
        report(
            f"search '{query}' (first page + total)",
            median_ms(lambda q=query: list_contacts(con, ListView(search=q), user)),
            200,
        )
    picks = iter(random.Random(3).choices(sample, k=20))

    def update_one() -> None:
        contact = get_contact(con, next(picks))
        update_contact(con, contact.contact_id, {"job_title": f"Bench {contact.version}"}, contact.version, user)

    report("contact update (read, validate, write, activity)", median_ms(update_one, runs=15, warmup=2), None)
    con.close()
    report("app peak memory with the database open", app_peak_memory_mb(database, sample[0]), 2048, "MB")
