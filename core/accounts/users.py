"""Users (the `owners` table): add, list, change role, reset password, deactivate; the last active admin stays."""

import json
import re

import duckdb
import polars as pl

from core.accounts.audit import log_workspace_change
from core.accounts.passwords import hash_password
from core.accounts.permissions import ROLES, SYSTEM_ACTORS, writes
from core.contacts.activity import now, record_bulk_activity
from core.db import frame, scalar, scratch, transaction
from core.errors import ContactsError
from core.stamps import note_write

_USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def _check_new_user(con: duckdb.DuckDBPyConnection, user_id: str, name: str, role: str) -> None:
    if not _USER_ID.match(user_id) or user_id in SYSTEM_ACTORS:
        raise ContactsError(
            "A user name is lower-case letters, digits, dots, dashes or underscores (up to 63).", field="owner_id"
        )
    if role not in ROLES:
        raise ContactsError("A role is 'admin' or 'agent'.", field="role")
    if not name.strip():
        raise ContactsError("Enter the user's name.", field="name")
    if scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ?", [user_id]):
        raise ContactsError(f"There is already a user '{user_id}'.", field="owner_id")


def _insert(
    con: duckdb.DuckDBPyConnection, user_id: str, name: str, role: str, password: str | None, email: str | None
) -> None:
    hashed = hash_password(password) if password is not None else None
    con.execute(
        "INSERT INTO owners (owner_id, name, email, role, password_hash) VALUES (?, ?, ?, ?, ?)",
        [user_id, name.strip(), email, role, hashed],
    )


@writes("users.manage")
def add_user(
    con: duckdb.DuckDBPyConnection,
    user_id: str,
    name: str,
    role: str,
    password: str | None,
    actor: str,
    email: str | None = None,
) -> None:
    """Add a user (role 'admin' or 'agent'); without a password they own contacts but cannot sign in."""
    with transaction(con):
        _check_new_user(con, user_id, name, role)
        _insert(con, user_id, name, role, password, email)
        log_workspace_change(con, actor, "user added", {"user": user_id, "role": role})


def needs_first_admin(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether no active admin can sign in yet (a new workspace asks for its first admin)."""
    return not scalar(con, "SELECT count(*) FROM owners WHERE role = 'admin' AND active AND password_hash IS NOT NULL")


def create_first_admin(con: duckdb.DuckDBPyConnection, user_id: str, name: str, password: str) -> None:
    """Set up a new workspace's first admin; refused once an admin can sign in (then an admin adds users).

    An admin who exists without a password (an older database) gets this password instead of a new row.
    """
    with transaction(con):
        if not needs_first_admin(con):
            raise ContactsError("This workspace already has an admin; ask them to add you.")
        if scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ? AND role = 'admin' AND active", [user_id]):
            con.execute("UPDATE owners SET password_hash = ? WHERE owner_id = ?", [hash_password(password), user_id])
        else:
            _check_new_user(con, user_id, name, "admin")
            _insert(con, user_id, name, "admin", password, None)
        log_workspace_change(con, user_id, "first admin set up", {"user": user_id})
    note_write("users.manage", con)  # not a @writes function (nobody acts yet): the owner lists move all the same


def list_users(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every user: ID, name, email, role, active, whether they can sign in, and how many contacts they own."""
    return frame(
        con,
        "SELECT o.owner_id AS user_id, o.name, o.email, o.role, o.active, o.password_hash IS NOT NULL AS can_sign_in, "
        "(SELECT count(*) FROM contacts c WHERE c.owner_id = o.owner_id) AS contacts "
        "FROM owners o ORDER BY o.active DESC, o.name",
    )


def _existing(con: duckdb.DuckDBPyConnection, user_id: str) -> tuple[str, bool]:
    found = con.execute("SELECT role, active FROM owners WHERE owner_id = ?", [user_id]).fetchall()
    if not found:
        raise ContactsError(f"There is no user '{user_id}'.", field="user_id")
    return found[0]


def _keep_an_admin(con: duckdb.DuckDBPyConnection, user_id: str) -> None:
    others = scalar(con, "SELECT count(*) FROM owners WHERE role = 'admin' AND active AND owner_id <> ?", [user_id])
    if not others:
        raise ContactsError("This is the last active admin: make another user an admin first.", field="user_id")


@writes("users.manage")
def set_role(con: duckdb.DuckDBPyConnection, user_id: str, role: str, actor: str) -> None:
    """Make a user an admin or an agent; the last active admin cannot be demoted."""
    if role not in ROLES:
        raise ContactsError("A role is 'admin' or 'agent'.", field="role")
    with transaction(con):
        before, active = _existing(con, user_id)
        if before == role:
            return
        if before == "admin" and active:
            _keep_an_admin(con, user_id)
        con.execute("UPDATE owners SET role = ? WHERE owner_id = ?", [role, user_id])
        log_workspace_change(con, actor, "role changed", {"user": user_id, "before": before, "after": role})


@writes("users.manage")
def reset_password(con: duckdb.DuckDBPyConnection, user_id: str, password: str, actor: str) -> None:
    """Give a user a new password and end their open sessions."""
    hashed = hash_password(password)
    with transaction(con):
        _existing(con, user_id)
        con.execute("UPDATE owners SET password_hash = ? WHERE owner_id = ?", [hashed, user_id])
        con.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
        log_workspace_change(con, actor, "password reset", {"user": user_id})


@writes("users.manage")
def deactivate_user(con: duckdb.DuckDBPyConnection, user_id: str, reassign_to: str | None, actor: str) -> int:
    """Deactivate a user: they can do nothing; their contacts go to `reassign_to` (None: unassigned). How many."""
    with transaction(con):
        role, active = _existing(con, user_id)
        if not active:
            raise ContactsError(f"'{user_id}' is already deactivated.", field="user_id")
        if role == "admin":
            _keep_an_admin(con, user_id)
        if reassign_to is not None and (reassign_to == user_id or not _is_active(con, reassign_to)):
            raise ContactsError("Reassign the contacts to another active user, or leave them unassigned.", "owner")
        moved = _reassign_contacts(con, user_id, reassign_to, actor)
        con.execute("UPDATE owners SET active = FALSE WHERE owner_id = ?", [user_id])
        con.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
        log_workspace_change(con, actor, "user deactivated", {"user": user_id, "contacts_to": reassign_to})
    return moved


def _is_active(con: duckdb.DuckDBPyConnection, user_id: str) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ? AND active", [user_id]))


def _reassign_contacts(con: duckdb.DuckDBPyConnection, user_id: str, owner: str | None, actor: str) -> int:
    """Set-based, inside the caller's transaction: every contact of `user_id` to `owner`, versions bumped, logged."""
    changes = json.dumps({"owner_id": {"before": user_id, "after": owner}})
    with scratch(con, "SELECT contact_id FROM contacts WHERE owner_id = ?", [user_id]) as owned:
        record_bulk_activity(con, owned, actor, "updated", changes)
        moved = scalar(
            con,
            "UPDATE contacts SET owner_id = $owner, version = version + 1, last_updated = $at "
            f"WHERE contact_id IN (SELECT contact_id FROM {owned})",
            {"owner": owner, "at": now()},
        )
    return moved or 0


def bootstrap_admin(con: duckdb.DuckDBPyConnection, user_id: str = "admin", name: str = "Admin") -> None:
    """Make sure a new database has its admin (no password: a notebook or a test acts as them, nobody signs in).

    Does nothing when that admin is there already; refused when the workspace has another active admin,
    so it never adds an admin behind an existing one's back.
    """
    with transaction(con):
        if scalar(con, "SELECT count(*) FROM owners WHERE owner_id = ? AND role = 'admin' AND active", [user_id]):
            return
        if scalar(con, "SELECT count(*) FROM owners WHERE role = 'admin' AND active"):
            raise ContactsError("This workspace already has an admin; ask them to add you.")
        _check_new_user(con, user_id, name, "admin")
        _insert(con, user_id, name, "admin", None, None)
        log_workspace_change(con, user_id, "first admin set up", {"user": user_id})
    note_write("users.manage", con)
