"""Signing in and out: password check with a slow-down after repeated failures, and sessions that expire when idle.

A session is a random token the browser holds; only its SHA-256 is stored, with its last use.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

import duckdb

from core.accounts.passwords import verify_password
from core.contacts.activity import now
from core.db import scalar, transaction
from core.errors import ContactsError

FAILURE_WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5  # then each further try waits 2, 4, 8 ... seconds (at most 5 minutes) after the last failure
MAX_WAIT_SECONDS = 300
TOUCH_EVERY = timedelta(seconds=60)  # a session's last use is written at most once a minute
WRONG = "Wrong user name or password."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_idle_minutes(con: duckdb.DuckDBPyConnection) -> int:
    """After how many idle minutes a session ends (a workspace setting, 480 unless changed)."""
    return int(scalar(con, "SELECT value FROM settings WHERE key = 'session_idle_minutes'") or 480)


def wait_seconds(con: duckdb.DuckDBPyConnection, user_id: str, client: str, at: datetime | None = None) -> int:
    """How long this account or browser must wait before the next try (0: it may try now)."""
    moment = at or now()
    count, last = con.execute(
        "SELECT count(*), max(failed_at) FROM sign_in_failures WHERE failed_at > ? AND (user_id = ? OR client = ?)",
        [moment - FAILURE_WINDOW, user_id, client],
    ).fetchone() or (0, None)
    if count < FREE_FAILURES or last is None:
        return 0
    wait = min(2 ** (count - FREE_FAILURES + 1), MAX_WAIT_SECONDS)
    return max(0, int(wait - (moment - last).total_seconds() + 0.999))


def sign_in(con: duckdb.DuckDBPyConnection, user_id: str, password: str, client: str) -> str:
    """Check a user's password and open a session: its token. A wrong password or a pause says so."""
    user_id, moment = user_id.strip().lower(), now()
    waiting = wait_seconds(con, user_id, client, moment)
    if waiting:
        raise ContactsError(f"Too many failed sign-ins: try again in {waiting} seconds.", field="password")
    stored = scalar(con, "SELECT password_hash FROM owners WHERE owner_id = ? AND active", [user_id])
    if not verify_password(stored, password):
        with transaction(con):
            con.execute("DELETE FROM sign_in_failures WHERE failed_at < ?", [moment - FAILURE_WINDOW])
            con.execute("INSERT INTO sign_in_failures VALUES (?, ?, ?)", [moment, user_id, client])
        raise ContactsError(WRONG, field="password")
    token = secrets.token_urlsafe(32)
    with transaction(con):
        con.execute("DELETE FROM sign_in_failures WHERE user_id = ?", [user_id])
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [_digest(token), user_id, moment, moment])
    return token


def start_session(con: duckdb.DuckDBPyConnection, user_id: str) -> str:
    """Open a session for a user already known to be who they say (a trusted proxy, a test): its token."""
    token, moment = secrets.token_urlsafe(32), now()
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [_digest(token), user_id, moment, moment])
    return token


def resume(con: duckdb.DuckDBPyConnection, token: str | None) -> str | None:
    """The active user of a session that has not been idle too long (and mark it used), else None."""
    if not token:
        return None
    moment = now()
    found = con.execute(
        "SELECT s.user_id, s.last_seen FROM sessions s JOIN owners o ON o.owner_id = s.user_id AND o.active "
        "WHERE s.token_hash = ?",
        [_digest(token)],
    ).fetchone()
    if found is None:
        return None
    user_id, last_seen = found
    if moment - last_seen > timedelta(minutes=session_idle_minutes(con)):
        sign_out(con, token)
        return None
    if moment - last_seen > TOUCH_EVERY:
        con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", [moment, _digest(token)])
    return user_id


def sign_out(con: duckdb.DuckDBPyConnection, token: str | None) -> None:
    """End a session (nothing happens for an unknown token)."""
    if token:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [_digest(token)])
