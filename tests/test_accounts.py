"""Accounts: hashed passwords, sign-in and its slow-down, idle expiry, the last admin, deactivation, the change log."""

from datetime import timedelta

import pytest

from core.accounts import sessions
from core.accounts.audit import workspace_log
from core.accounts.passwords import hash_password, verify_password
from core.accounts.sessions import WRONG, resume, sign_in, sign_out, wait_seconds
from core.accounts.users import (
    add_user,
    create_first_admin,
    deactivate_user,
    list_users,
    needs_first_admin,
    reset_password,
    set_role,
)
from core.contacts.records import get_contact
from core.db import open_database, scalar
from core.errors import ContactsError, PermissionDenied
from core.workspace import set_session_idle_minutes

PASSWORD = "correct horse battery"


@pytest.fixture
def team(fresh_db):
    reset_password(fresh_db, "admin", PASSWORD, actor="admin")
    add_user(fresh_db, "maria", "Maria", "agent", "maria-password", actor="admin")
    return fresh_db


def test_passwords_are_hashed_with_argon2_and_never_stored_in_clear(team):
    stored = scalar(team, "SELECT password_hash FROM owners WHERE owner_id = 'admin'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)
    with pytest.raises(ContactsError, match="at least 10"):
        hash_password("short")


def test_a_new_workspace_asks_for_its_first_admin_once():
    con = open_database()
    assert needs_first_admin(con)
    create_first_admin(con, "boss", "The Boss", PASSWORD)
    assert not needs_first_admin(con)
    with pytest.raises(ContactsError, match="already has an admin"):
        create_first_admin(con, "intruder", "Intruder", PASSWORD)
    assert sign_in(con, "boss", PASSWORD, "test")


def test_sign_in_and_out(team):
    token = sign_in(team, "Maria ", "maria-password", "browser-1")
    assert resume(team, token) == "maria"
    assert scalar(team, "SELECT count(*) FROM sessions WHERE token_hash = ?", [token]) == 0  # only a digest
    sign_out(team, token)
    assert resume(team, token) is None


def test_a_wrong_password_or_user_gets_one_clear_message(team):
    for user, password in (("maria", "wrong-password"), ("nobody", "maria-password")):
        with pytest.raises(ContactsError) as refused:
            sign_in(team, user, password, "browser-1")
        assert refused.value.message == WRONG


def test_repeated_failures_slow_down_that_account_and_that_browser(team):
    for _ in range(sessions.FREE_FAILURES):
        with pytest.raises(ContactsError, match="Wrong"):
            sign_in(team, "maria", "wrong-password", "browser-1")
    with pytest.raises(ContactsError, match="Too many failed sign-ins"):
        sign_in(team, "maria", "maria-password", "browser-2")  # the account waits, even from elsewhere
    assert wait_seconds(team, "admin", "browser-1") > 0  # and so does that browser, for any account
    assert wait_seconds(team, "admin", "browser-3") == 0
    later = sessions.now() + timedelta(seconds=sessions.MAX_WAIT_SECONDS + 1)
    assert wait_seconds(team, "maria", "browser-2", at=later) == 0


def test_a_session_ends_after_the_idle_time(team, monkeypatch):
    set_session_idle_minutes(team, 30, actor="admin")
    token = sign_in(team, "maria", "maria-password", "browser-1")
    start = sessions.now()
    monkeypatch.setattr(sessions, "now", lambda: start + timedelta(minutes=29))
    assert resume(team, token) == "maria"
    monkeypatch.setattr(sessions, "now", lambda: start + timedelta(minutes=29 + 31))
    assert resume(team, token) is None


def test_a_deactivated_user_cannot_sign_in_or_act(team):
    token = sign_in(team, "maria", "maria-password", "browser-1")
    deactivate_user(team, "maria", None, actor="admin")
    assert resume(team, token) is None
    with pytest.raises(ContactsError, match="Wrong"):
        sign_in(team, "maria", "maria-password", "browser-1")
    with pytest.raises(PermissionDenied):
        add_user(team, "x", "X", "agent", None, actor="maria")


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(team):
    with pytest.raises(ContactsError, match="last active admin"):
        set_role(team, "admin", "agent", actor="admin")
    with pytest.raises(ContactsError, match="last active admin"):
        deactivate_user(team, "admin", None, actor="admin")
    set_role(team, "maria", "admin", actor="admin")
    set_role(team, "admin", "agent", actor="maria")  # now there is another admin
    assert dict(list_users(team).select("user_id", "role").iter_rows()) == {"admin": "agent", "maria": "admin"}


def test_deactivating_reassigns_their_contacts_logged_and_versioned(team, add_contact):
    add_user(team, "li", "Li", "agent", None, actor="admin")
    add_contact(team, "c1", email="c1@example.com", owner_id="maria")
    add_contact(team, "c2", email="c2@example.com", owner_id="maria")
    with pytest.raises(ContactsError, match="another active user"):
        deactivate_user(team, "maria", "maria", actor="admin")
    assert deactivate_user(team, "maria", "li", actor="admin") == 2
    moved = get_contact(team, "c1")
    assert (moved.owner_id, moved.version) == ("li", 2)
    assert scalar(team, "SELECT count(*) FROM activity WHERE contact_id = 'c2' AND actor = 'admin'") >= 1
    assert "user deactivated" in workspace_log(team)["action"].to_list()


def test_agents_cannot_manage_users(team):
    for action in (
        lambda: add_user(team, "x", "X", "admin", PASSWORD, actor="maria"),
        lambda: set_role(team, "maria", "admin", actor="maria"),
        lambda: reset_password(team, "admin", PASSWORD, actor="maria"),
    ):
        with pytest.raises(PermissionDenied, match="Only admins"):
            action()


def test_the_database_and_its_log_are_private(tmp_path):
    database = tmp_path / "private.duckdb"
    con = open_database(database)
    con.execute("CREATE TABLE scratch_private (a INTEGER)")
    con.execute("INSERT INTO scratch_private VALUES (1)")  # a write: DuckDB (re)creates the .wal now
    wal = tmp_path / "private.duckdb.wal"
    assert wal.exists() and wal.stat().st_mode & 0o777 == 0o600
    con.close()
    assert database.stat().st_mode & 0o777 == 0o600
    database.chmod(0o644)  # a database made before: narrowed when opened
    open_database(database).close()
    assert database.stat().st_mode & 0o777 == 0o600
