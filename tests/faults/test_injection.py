"""SQL and HTML injection (issue 14, point 8): hostile text through every entry point is stored as the text it
is or refused with a reason; no statement runs, no table goes, nothing raises a database error.

HTML: no page or UI helper renders HTML it was given (no unsafe_allow_html, st.html or components.html), so
Streamlit escapes every value a page shows."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from core.channels.ingest import ingest_lines
from core.contacts.models import ContactInput
from core.contacts.records import add_note, create_contact, get_contact, update_contact
from core.errors import ContactsError
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.bulk import Selection, add_tags
from core.views.filters import parse_filter
from core.views.queries import ListView, list_contacts
from core.views.segments import save_segment
from tests.faults.invariants import check, tables_with_contacts

ROOT = Path(__file__).resolve().parents[2]
SQL = [
    "'",
    "''",
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE contacts; --",
    '"; DROP TABLE contacts; --',
    "1; DELETE FROM contacts",
    "') OR ('a'='a",
    "admin'--",
    "' UNION SELECT * FROM owners --",
    "%' AND 1=0 UNION SELECT NULL --",
    "\\'; DROP TABLE notes; --",
    "$1",
    "$ids",
    "?",
    "%",
    "_",
    "\\",
    "*/ DROP TABLE activity /*",
    "'; ATTACH '/tmp/evil.duckdb' AS evil; --",
    "'; COPY contacts TO '/tmp/leak.csv'; --",
    "'; INSTALL httpfs; --",
    "read_csv('/etc/passwd')",
    "{{7*7}}",
    "x' || (SELECT string_agg(owner_id, ',') FROM owners) || '",
]
HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    '"><svg onload=alert(1)>',
    "**bold** [link](javascript:alert(1))",
    "<iframe src=//evil.example>",
]
PAYLOADS = SQL + HTML
USER = "admin"


def _import(con: duckdb.DuckDBPyConnection, payload: str) -> object:
    header = payload.replace('"', '""')
    data = f'Email,Company,"{header}"\ninj@example.com,"{header}",x\n'.encode()
    table = read_table("inj.csv", data)
    return commit_import(con, plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers))), "admin")


ENTRY_POINTS: dict[str, Callable[[duckdb.DuckDBPyConnection, str], object]] = {
    "create: first name": lambda con, p: create_contact(
        con, ContactInput(email="a@example.com", first_name=p), "admin"
    ),
    "create: company": lambda con, p: create_contact(con, ContactInput(email="b@example.com", company=p), "admin"),
    "create: contact ID": lambda con, p: create_contact(con, ContactInput(contact_id=p), "admin"),
    "create: email": lambda con, p: create_contact(con, ContactInput(email=p), "admin"),
    "edit: last name": lambda con, p: update_contact(con, "victim", {"last_name": p}, 1, "admin"),
    "note": lambda con, p: add_note(con, "victim", p, "admin"),
    "search": lambda con, p: list_contacts(con, ListView(search=p), "admin"),
    "filter value": lambda con, p: list_contacts(
        con,
        ListView(filter=parse_filter({"conditions": [{"field": "company", "op": "contains", "value": p}]})),
        "admin",
    ),
    "filter field": lambda con, p: parse_filter({"conditions": [{"field": p, "op": "contains", "value": "x"}]}),
    "sort key": lambda con, p: ListView(sort=p),
    "segment name": lambda con, p: save_segment(con, p, parse_filter({"conditions": []}), "admin"),
    "tag": lambda con, p: add_tags(con, Selection(ids=["victim"]), [p], "admin"),
    "import header and cell": _import,
    "ingest name and text": lambda con, p: ingest_lines(
        con,
        [
            json.dumps(
                {"type": "webchat", "contact_id": "inj-visitor", "name": p, "at": "2026-11-25T09:00:00Z", "text": p}
            )
        ],
        "channels",
    ),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_hostile_text_is_stored_as_text_or_refused(fresh_db, add_contact, tally, entry):
    add_contact(fresh_db, "victim", email="victim@example.com")
    tables = fresh_db.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
    crashes = []
    for payload in PAYLOADS:
        for table in ("contacts", *tables_with_contacts(fresh_db)):  # each payload on the same ground
            fresh_db.execute(f"DELETE FROM {table} WHERE contact_id <> 'victim'").fetchall()
        try:
            ENTRY_POINTS[entry](fresh_db, payload)
        except (ContactsError, ValidationError):
            pass  # refused with a reason
        except Exception as error:  # a database error or a crash: the payload reached somewhere it should not
            crashes.append((payload, repr(error)[:200]))
        if fresh_db.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] != tables:
            crashes.append((payload, "a table went"))
    assert get_contact(fresh_db, "victim").email == "victim@example.com"
    problems = check(fresh_db)
    tally("SQL and HTML injection (payload x entry point)", len(PAYLOADS), len(crashes) + len(problems))
    assert crashes == [] and problems == []


def test_stored_payloads_come_back_exactly(fresh_db):
    for index, payload in enumerate(PAYLOADS):
        contact = create_contact(fresh_db, ContactInput(email=f"p{index}@example.com", company=payload), "admin")
        assert get_contact(fresh_db, contact.contact_id).company == payload.strip()


def test_no_page_renders_html_it_is_given():
    """Markdown with unsafe HTML never; st.html only with text written in the code (constants interpolated)."""
    unsafe = re.compile(r"unsafe_allow_html\s*=\s*True|components\.html\(")
    html_call = re.compile(r"st\.html\(\s*(f?)(['\"])(.*?)\2", re.S)
    found = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py"), ROOT / "app.py"]:
        source = path.read_text(encoding="utf-8")
        if unsafe.search(source):
            found.append(f"{path}: unsafe HTML")
        calls = html_call.findall(source)
        if source.count("st.html(") != len(calls):
            found.append(f"{path}: st.html of something other than a literal")
        for is_f, _, text in calls:
            values = re.findall(r"\{([^}]*)\}", text) if is_f else []
            found += [f"{path}: st.html of {{{v}}}" for v in values if not re.fullmatch(r"[A-Z_]+(!r)?", v)]
    assert found == []
