"""The Import page under AppTest: mapping and dry run on a file kept in the session (AppTest cannot upload)."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.importer import read_table
from core.workspace import add_owner
from tests.pages.conftest import ROOT, open_as_agent, sign_in_as
from ui.session import db

FILES = Path(__file__).resolve().parents[1] / "files" / "import"


@pytest.fixture
def import_page(app_db):
    """The Import page with bad_rows.csv as if it had just been uploaded."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))
    app.run()
    app.switch_page("pages/import_contacts.py")
    app.session_state["import_table"] = read_table("bad_rows.csv", (FILES / "bad_rows.csv").read_bytes())
    return app.run()


def metrics(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_columns_are_mapped_automatically(import_page):
    assert not import_page.exception
    assert import_page.selectbox(key="map:Email").value == "email"
    assert import_page.selectbox(key="map:Mobile").value == "phone"
    assert import_page.selectbox(key="map:Plan").value == "custom.plan"
    assert import_page.selectbox(key="map:Score").value == ""


def test_dry_run_shows_counts_and_rejected_rows_and_writes_nothing(import_page):
    app = _dry_run(import_page)
    assert metrics(app) == {"Created": "7", "Updated": "0", "Skipped": "0", "Rejected": "1", "Combined": "0"}
    errors = app.dataframe[0].value
    assert list(errors["line"]) == [5]
    assert db().execute("SELECT count(*) FROM contacts WHERE email = 'good@example.com'").fetchall() == [(0,)]


def _dry_run(app):
    return next(b for b in app.button if b.label == "Dry run").click().run()


def test_remapping_a_column_changes_the_dry_run(import_page):
    app = import_page.selectbox(key="map:Plan").select("").run()  # ignore Plan: 'Platinum' is no longer warned
    app = _dry_run(app)
    assert "Platinum" not in list(app.dataframe[1].value["value"])
    app = app.selectbox(key="map:Score").select("__new__").run()
    assert any("changed since the dry run" in info.value for info in app.info)


def test_commit_imports_and_records_history(import_page):
    app = _dry_run(import_page)
    app = next(b for b in app.button if b.label.startswith("Import:")).click().run()
    assert not app.exception
    assert "7 created" in app.success[0].value
    history = app.dataframe[0].value
    assert list(history["file_name"]) == ["bad_rows.csv"]
    assert db().execute("SELECT count(*) FROM contacts WHERE source = 'import'").fetchall() == [(7,)]


def test_agents_cannot_import(app_db):
    add_owner(db(), "agent1", "Agent", role="agent", actor="admin")
    app = open_as_agent("import", "Import", user="agent1")
    assert not app.get("file_uploader")
