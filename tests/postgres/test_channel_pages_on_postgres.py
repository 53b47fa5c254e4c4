"""The Channels page and a contact's channel sections (identities, conversations, messages, refusals) served from
a PostgreSQL database under AppTest, after events ingested there."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.channels.ingest import ingest_lines
from core.cli import main
from core.contacts.records import set_blocked
from core.db import open_database, scalar
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.test_app_on_postgres import app_on_postgres  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres
WHATSAPP = {"type": "inbox", "channel": "WhatsApp", "social_id": "+34612345678", "name": "Lucía Gómez"}


def _page(page: str, **query: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, "admin")
    app.run()
    app.switch_page(page)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def test_channel_pages_on_postgres(app_on_postgres):  # noqa: F811
    con = open_database(app_on_postgres)
    lines = [
        json.dumps(WHATSAPP | {"at": "2026-11-25T09:01:00Z", "text": "hola"}),
        json.dumps(WHATSAPP | {"at": "2026-11-25T09:02:00Z", "text": "¿hay stock?"}),
        "{broken",
    ]
    report = ingest_lines(con, lines, actor="admin", origin="cli: events.jsonl")
    assert (report.created, len(report.malformed)) == (1, 1)
    contact_id = scalar(con, "SELECT contact_id FROM contacts WHERE social_id = '+34612345678'")
    set_blocked(con, [contact_id], True, "admin")
    ingest_lines(con, [json.dumps(WHATSAPP | {"at": "2026-11-25T09:05:00Z", "text": "hola?"})], actor="admin")
    con.close()

    app = _page("pages/channels.py")
    assert not app.exception
    runs = app.dataframe[0].value
    first = runs.iloc[-1] if hasattr(runs, "iloc") else runs.row(-1, named=True)  # newest first: the file's run last
    assert (first["origin"], first["events"], first["created"], first["malformed"]) == ("cli: events.jsonl", 3, 1, 1)

    app = _page("pages/contact.py", id=contact_id)
    assert not app.exception
    tables = [table.value for table in app.dataframe]
    identities = next(table for table in tables if "social_id" in table.columns)
    identity = identities.iloc[0] if hasattr(identities, "iloc") else identities.row(0, named=True)
    assert (identity["channel"], identity["social_id"]) == ("WhatsApp", "+34612345678")
    captions = [caption.value for caption in app.caption]
    assert "1 conversation" in captions
    assert "Refused while blocked: 1 event" in captions


def test_cli_ingest_block_and_unblock_on_postgres(pg_db, pg_url, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    visitor = {"type": "webchat", "at": "2026-11-25T09:00:00Z"}
    events.write_text("".join(json.dumps(visitor | {"contact_id": f"cli-{n}"}) + "\n" for n in (1, 2)))
    assert main(["ingest", str(events), "--db", pg_url]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 2
    assert main(["block", "cli-1", "--db", pg_url]) == 0
    assert json.loads(capsys.readouterr().out)["blocked"] == 1
    events.write_text(json.dumps(visitor | {"contact_id": "cli-1", "at": "2026-11-26T09:00:00Z"}) + "\n")
    assert main(["ingest", str(events), "--db", pg_url]) == 0
    assert json.loads(capsys.readouterr().out)["refused_blocked"] == 1
    assert scalar(pg_db, "SELECT refused_count FROM channel_refusals WHERE contact_id = 'cli-1'") == 1
