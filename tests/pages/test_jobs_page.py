"""Background jobs on a page (ui/jobs.py): duplicate detection as a job shows its progress, survives a reload
(a new session finds the job in the table) and reports its result; a job a dead process left is shown interrupted."""

import os
import threading

import pytest

import ui.duplicates.finding as finding
import ui.jobs
from core.db import open_database
from core.duplicates import find_duplicates
from core.jobs import latest_job, wait_for_job
from tests.pages.test_duplicates_page import listed, people  # noqa: F401 - the fixture
from tests.pages.test_import_page import import_page  # noqa: F401 - the fixture


@pytest.fixture
def gated_detection(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every detection runs as a background job, and waits for the returned event before it starts."""
    gate = threading.Event()

    def held(con, actor, exact_only=False):
        gate.wait(30)
        return find_duplicates(con, actor, exact_only)

    monkeypatch.setattr(ui.jobs, "BACKGROUND_FROM", 0)
    monkeypatch.setattr(finding, "find_duplicates", held)
    return gate


def test_a_detection_job_survives_a_reload_and_reports_its_result(people, open_page, gated_detection):  # noqa: F811
    app = open_page("pages/duplicates.py")
    assert not app.exception
    bars = app.get("progress")
    assert len(bars) == 1 and "Looking for exact and likely pairs" in bars[0].proto.text
    assert "never looked for" in app.caption[0].value
    assert next(b for b in app.button if b.label == "Find duplicates").disabled

    reloaded = open_page("pages/duplicates.py")  # another session, as after a reload: the job is still there
    assert len(reloaded.get("progress")) == 1

    gated_detection.set()
    wait_for_job("duplicates", 30)
    again = open_page("pages/duplicates.py")
    assert not again.exception and not again.get("progress")
    assert "Last looked for duplicates" in again.caption[0].value
    assert listed(again) == [
        "Dorothy Vaughan, Dorothy Vaughn",
        "Hedy Lamarr, Hedy Lamarr",
        "John Smith, Johnny Smith",
        "Katherine Johnson, Katherine Johnson",
    ]
    from ui.session import db

    job = latest_job(db(), "duplicates")
    assert job.state == "done" and job.actor == "admin" and job.result["exact_pairs"] == 2


def test_a_job_left_running_by_a_dead_process_shows_as_interrupted(people, open_page):  # noqa: F811
    con = open_database(os.environ["CONTACTS_DB"])
    con.execute(
        "INSERT INTO jobs (kind, state, progress, message, actor, created_at, started_at) "
        "VALUES ('duplicates', 'running', 0.3, 'Scoring', 'admin', now(), now())"
    )
    con.close()
    app = open_page("pages/duplicates.py")  # the app opens the database: a new process, for the job
    assert not app.exception and not app.get("progress")
    assert any("restarted while this job ran" in w.value for w in app.warning)
    assert not next(b for b in app.button if b.label == "Find duplicates").disabled


def test_a_bulk_action_over_a_large_view_runs_as_a_job_and_reports_after_a_reload(open_page, monkeypatch):
    monkeypatch.setattr(ui.jobs, "BACKGROUND_FROM", 0)  # every view counts as large
    app = open_page("pages/contacts.py")
    app.selectbox(key="bulk-assign-owner").set_value("admin").run()
    app.button(key="bulk-assign-go").click().run()
    assert not app.exception
    wait_for_job("bulk:admin", 30)
    reloaded = open_page("pages/contacts.py")
    from ui.session import db, plain

    assert [s.value for s in reloaded.success] == [plain("Assigned 2 contacts. 1 already had that owner.")]

    assert latest_job(db(), "bulk:admin").state == "done"


def test_an_export_of_a_large_view_is_prepared_by_a_job_and_offered_after_a_reload(open_page, monkeypatch):
    monkeypatch.setattr(ui.jobs, "BACKGROUND_FROM", 0)
    app = open_page("pages/contacts.py")
    app.button(key="export_prepare").click().run()
    assert not app.exception
    wait_for_job("export:admin", 30)
    reloaded = open_page("pages/contacts.py")
    downloads = reloaded.get("download_button")
    assert len(downloads) == 1 and "contacts.csv" in downloads[0].proto.label
    from ui.session import db

    job = latest_job(db(), "export:admin")
    assert job.state == "done" and job.result["bytes"] > 100


def test_a_large_import_commits_in_a_job_and_reports_after_a_reload(import_page, open_page, monkeypatch):  # noqa: F811
    monkeypatch.setattr(ui.jobs, "BACKGROUND_FROM", 0)
    app = next(b for b in import_page.button if b.label == "Dry run").click().run()
    app = next(b for b in app.button if b.label.startswith("Import:")).click().run()
    assert not app.exception
    wait_for_job("import", 30)
    reloaded = open_page("pages/import_contacts.py")
    assert any("7 created" in s.value for s in reloaded.success)
    from ui.session import db

    assert db().execute("SELECT count(*) FROM contacts WHERE source = 'import'").fetchall() == [(7,)]
    assert latest_job(db(), "import").result["created"] == 7
