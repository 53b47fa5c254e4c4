"""`python -m core users ...` and the CLI's acting user: --user must exist and be active, and obeys the table."""

import io
import json

import pytest

from core.accounts.sessions import sign_in
from core.cli import main
from core.db import open_database, scalar


@pytest.fixture
def workspace(tmp_path, capsys):
    database = str(tmp_path / "w.duckdb")
    assert main(["init", "--db", database]) == 0
    capsys.readouterr()
    return database


def run(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_add_reads_the_password_from_stdin_and_the_user_signs_in(workspace, capsys, monkeypatch):
    code, out, _ = run(
        capsys, monkeypatch, "users", "add", "boss", "--admin", "--db", workspace, stdin="boss-pass-123\n"
    )
    assert code == 0 and json.loads(out)["first_admin"] is True
    code, _, _ = run(
        capsys, monkeypatch, "users", "add", "maria", "--db", workspace, "--user", "boss", stdin="maria-pass-123\n"
    )
    assert code == 0
    con = open_database(workspace)
    assert sign_in(con, "maria", "maria-pass-123", "cli-test")
    assert "maria-pass-123" not in str(con.execute("SELECT * FROM owners").fetchall())
    con.close()
    code, out, _ = run(capsys, monkeypatch, "users", "list", "--db", workspace, "--user", "boss")
    listed = {user["user_id"]: user for user in json.loads(out)}
    assert listed["maria"]["role"] == "agent" and listed["maria"]["can_sign_in"]
    assert "password_hash" not in listed["maria"]


def test_set_role_and_deactivate(workspace, capsys, monkeypatch):
    run(capsys, monkeypatch, "users", "add", "maria", "--db", workspace, "--user", "admin", stdin="maria-pass-123\n")
    assert run(capsys, monkeypatch, "users", "set-role", "maria", "admin", "--db", workspace, "--user", "admin")[0] == 0
    code, out, _ = run(capsys, monkeypatch, "users", "deactivate", "maria", "--db", workspace, "--user", "admin")
    assert code == 0 and json.loads(out)["deactivated"] == "maria"


def test_an_agent_cannot_manage_users_or_import(workspace, capsys, monkeypatch, tmp_path):
    run(capsys, monkeypatch, "users", "add", "maria", "--db", workspace, "--user", "admin", stdin="maria-pass-123\n")
    code, _, err = run(capsys, monkeypatch, "users", "set-role", "maria", "admin", "--db", workspace, "--user", "maria")
    assert code == 1 and "Only admins" in err
    source = tmp_path / "people.csv"
    source.write_text("Email\na@example.com\n")
    code, _, err = run(capsys, monkeypatch, "import", str(source), "--db", workspace, "--user", "maria")
    assert code == 1 and "Only admins" in err
    con = open_database(workspace)
    assert scalar(con, "SELECT count(*) FROM contacts") == 0
    con.close()


@pytest.mark.parametrize("user", ["ghost", "gone"])
def test_an_unknown_or_deactivated_user_can_do_nothing(workspace, capsys, monkeypatch, user):
    run(capsys, monkeypatch, "users", "add", "gone", "--db", workspace, "--user", "admin", stdin="gone-pass-1234\n")
    run(capsys, monkeypatch, "users", "deactivate", "gone", "--db", workspace, "--user", "admin")
    for argv in (["users", "list"], ["search", ""], ["block", "x"]):
        code, _, err = run(capsys, monkeypatch, *argv, "--db", workspace, "--user", user)
        assert code == 1 and "not an active user" in err


def test_a_new_demo_prints_its_admin_and_password_once(tmp_path, capsys):
    database = str(tmp_path / "demo.duckdb")
    assert main(["demo", "--contacts", "20", "--db", database]) == 0
    out, err = capsys.readouterr()
    admin = json.loads(out)["demo_admin"]
    assert admin["user"] == "admin" and admin["password"] in err
    con = open_database(database)
    assert sign_in(con, "admin", admin["password"], "cli-test")
    con.close()
