"""Random events and random cells (issue 14, point 3): no traceback; every line is applied or reported."""

import csv
import io
import json
from datetime import datetime

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.channels.ingest import ingest_lines
from core.errors import ContactsError
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from tests.faults.invariants import check
from tests.faults.workspace import open_workspace

NASTY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30) | st.sampled_from(
    ["", " ", "\x00", "a\u202eb", "=1+1", "'", "0001-01-01T00:00:00+14:00", "9" * 400, "null", "\ufeff"]
)
TIMES = st.sampled_from(
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-25T09:30:00Z", "2026-02-30T00:00:00Z", ""]
) | st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat() + "+05:00")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | NASTY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3),
    max_leaves=8,
)
WEBCHAT = st.fixed_dictionaries(
    {"type": st.just("webchat"), "at": TIMES},
    optional={"contact_id": NASTY_TEXT, "name": NASTY_TEXT, "email": NASTY_TEXT, "phone": NASTY_TEXT, "text": JSON},
)
INBOX = st.fixed_dictionaries(
    {
        "type": st.just("inbox"),
        "at": TIMES,
        "channel": st.sampled_from(["WhatsApp", "sms", "Fax"]),
        "social_id": NASTY_TEXT,
    },
    optional={"name": NASTY_TEXT, "email": NASTY_TEXT, "subject": JSON},
)
LINES = st.lists((WEBCHAT | INBOX | JSON).map(json.dumps) | NASTY_TEXT, min_size=1, max_size=12)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    con = open_workspace(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb")
    yield con
    con.close()


@FUZZ
@given(lines=LINES)
def test_random_event_lines_are_each_applied_or_reported(workspace, tally, lines):
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]  # one event a line
    report = ingest_lines(workspace, lines, "channels")
    nonblank = [number for number, line in enumerate(lines, start=1) if line.strip()]
    malformed = {item["line"] for item in report.malformed}
    assert report.events == len(nonblank) and malformed <= set(nonblank)
    for number in set(nonblank) - malformed:  # an accepted Web Chat event with its contact ID left that contact
        event = json.loads(lines[number - 1])
        if event["type"] == "webchat" and event.get("contact_id", "").strip():
            found = workspace.execute(
                "SELECT count(*) FROM contacts WHERE contact_id = ? OR contact_id IN "
                "(SELECT contact_id FROM merged_ids WHERE merged_id = ?)",
                [event["contact_id"].strip(), event["contact_id"].strip()],
            ).fetchall()[0][0]
            assert found == 1, (number, event)
    assert check(workspace) == []
    tally("hypothesis fuzz: event lines through ingest (examples)", 1, 0)


CELLS = st.lists(st.lists(NASTY_TEXT, min_size=5, max_size=5), min_size=1, max_size=8)


@FUZZ
@given(rows=CELLS)
def test_random_cells_import_or_are_rejected_with_a_line(workspace, tally, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Email", "First name", "Phone", "Company", "Birthday"])
    writer.writerows(rows)
    try:
        table = read_table("fuzz.csv", buffer.getvalue().encode("utf-8", "surrogatepass"))
        plan = plan_import(workspace, table, ImportOptions(mapping=auto_map(workspace, table.headers)))
    except ContactsError:
        tally("hypothesis fuzz: CSV cells through import (examples)", 1, 0)
        return  # the whole file refused with a reason (e.g. nothing but blank lines)
    counts = plan.counts()
    # Every row read is created, updated, skipped, rejected (with its line) or combined into an earlier one.
    assert sum(counts.values()) + plan.combined == table.frame.height
    reported = set(plan.rejected_rows["line"].to_list()) if plan.rejected_rows.height else set()
    assert counts["rejected"] == len(reported)
    commit_import(workspace, plan, "admin")
    assert check(workspace) == []
    tally("hypothesis fuzz: CSV cells through import (examples)", 1, 0)
