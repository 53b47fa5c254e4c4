"""The running app's ingest endpoint over real HTTP: `streamlit run server.py` in a subprocess."""

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.accounts.users import reset_password
from core.cli import main
from core.cli.channels import send_file
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, set_blocked
from tests.browser.conftest import StreamlitServer
from tests.faults.workspace import open_workspace

pytestmark = pytest.mark.slow  # every test here talks to a real `streamlit run server.py`
ADMIN_PASSWORD = "server-admin-password"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app on a database holding one blocked contact, 'blocked-visitor'."""
    database = tmp_path_factory.mktemp("server") / "contacts.duckdb"
    con = open_workspace(database)
    create_contact(con, ContactInput(contact_id="blocked-visitor", first_name="Mallory"), "admin")
    set_blocked(con, ["blocked-visitor"], True, "admin")
    reset_password(con, "admin", ADMIN_PASSWORD, actor="admin")
    con.close()
    running = StreamlitServer(database)
    yield running
    running.stop()


def post(app: StreamlitServer, body: str | bytes, token: str | None = None) -> tuple[int, dict]:
    """POST a body to /api/ingest; (status, JSON answer)."""
    request = urllib.request.Request(
        f"{app.url}/api/ingest",
        data=body if isinstance(body, bytes) else body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token if token is not None else app.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def event(**fields: object) -> str:
    return json.dumps({"at": "2026-11-25T09:00:00Z", **fields})


def test_a_wrong_or_missing_token_is_refused(app):
    assert post(app, event(type="webchat"), token="wrong")[0] == 401
    assert post(app, event(type="webchat"), token="")[0] == 401


def test_events_are_applied_and_answered_with_the_report(app):
    status, report = post(app, "\n".join([event(type="webchat", contact_id="http-1", name="Hana Ito"), "{broken"]))
    assert status == 200
    assert (report["created"], report["conversations_opened"], report["refused_blocked"]) == (1, 1, 0)
    assert report["malformed"][0]["line"] == 2


def test_bad_json_gets_a_4xx_and_a_reason_and_changes_nothing(app):
    status, answer = post(app, '{"type": "webchat", "at": ')
    assert status == 400
    assert "no valid event" in answer["error"] and "not valid JSON" in answer["malformed"][0]["reason"]
    status, answer = post(app, b"\xff\xfe not utf-8")
    assert status == 400 and "UTF-8" in answer["error"]
    status, answer = post(app, "\n\n")
    assert status == 400


def test_a_blocked_contacts_event_is_refused_and_the_widget_hides_its_button(app):
    status, report = post(app, event(type="webchat", contact_id="blocked-visitor", text="let me in"))
    assert (status, report["refused_blocked"], report["conversations_opened"], report["updated"]) == (200, 1, 0, 0)
    with urllib.request.urlopen(f"{app.url}/api/chat-button?contact_id=blocked-visitor", timeout=10) as response:
        assert json.loads(response.read()) == {"show": False}
    with urllib.request.urlopen(f"{app.url}/api/chat-button?contact_id=http-1", timeout=10) as response:
        assert json.loads(response.read()) == {"show": True}


def test_the_cli_sends_a_file_in_parts_with_file_line_numbers(app, tmp_path: Path):
    events = tmp_path / "events.jsonl"
    lines = [event(type="inbox", channel="SMS", social_id=f"+1555000{n:04d}", text="hi") for n in range(5)]
    events.write_text("\n".join([*lines[:3], "not json", *lines[3:]]) + "\n")
    report = send_file(events, app.url, app.token, lines_per_request=2)
    assert (report.created, report.conversations_opened) == (5, 5)
    assert [bad["line"] for bad in report.malformed] == [4]


def test_the_cli_ingest_url_prints_the_report(app, tmp_path: Path, capsys):
    # Its own contact, not another test's: the tests of this module may run on different workers, in any order.
    assert post(app, event(type="webchat", contact_id="cli-1", name="Cleo Lin"))[1]["created"] == 1
    events = tmp_path / "again.jsonl"
    events.write_text(event(type="webchat", contact_id="cli-1", at="2026-11-25T09:10:00Z") + "\n")
    assert main(["ingest", str(events), "--url", app.url, "--token", app.token]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["updated"], report["conversations_continued"]) == (0, 1, 1)
    assert main(["ingest", str(events), "--url", app.url, "--token", "wrong"]) == 1
    assert "refused the events (401)" in capsys.readouterr().err


def _chunked(app: StreamlitServer, parts: Iterator[bytes]) -> tuple[int, dict]:
    """POST a body with no length (chunked transfer), as a streaming client sends it."""
    request = urllib.request.Request(
        f"{app.url}/api/ingest", data=parts, method="POST", headers={"Authorization": f"Bearer {app.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_chunked_body_past_the_line_limit_is_refused_while_read(app):
    from server import MAX_LINES

    status, answer = _chunked(app, (b"{}\n" * 1000 for _ in range(MAX_LINES // 1000 + 1)))
    assert status == 413 and "lines" in answer["error"]
    status, report = _chunked(app, iter([event(type="webchat", contact_id="chunked-1").encode()]))
    assert (status, report["created"]) == (200, 1)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_edge_time_is_one_malformed_line_not_a_server_error(app, at):
    lines = [json.dumps({"type": "webchat", "contact_id": "edge", "at": at}), event(type="webchat", contact_id=at)]
    status, report = post(app, "\n".join(lines))
    assert status == 200 and report["created"] == 1
    assert report["malformed"] == [{"line": 1, "reason": "at: the time is out of range once turned into UTC"}]


def test_the_cli_backs_up_through_the_running_app(app, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    assert main(["backup", "--db", str(app.database), "--url", app.url, "--user", "admin"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["contacts"] >= 1 and Path(manifest["folder"]).parent == Path(f"{app.database}.backups")
    assert (Path(manifest["folder"]) / "manifest.json").exists()


def test_a_backup_over_http_wants_an_admin_password(app, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("not-the-password\n"))
    assert main(["backup", "--db", str(app.database), "--url", app.url, "--user", "admin"]) == 1
    assert "refused the backup (403)" in capsys.readouterr().err
