"""Who may do what: one declarative table of actions, checked by every public writing function of core.

Each rule names an action, the roles that may do it, and whether an agent may do it only on contacts
they may edit (the contacts they own or that nobody owns). A writing function declares its action
with `@writes("contacts.update")`: the decorator checks the acting user before the function runs and
registers the function, so tests/test_permissions.py walks every writer × role, and a public function
that takes an acting user without a rule fails that test. Unknown and deactivated users can do nothing.
"""

import contextlib
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

import duckdb

from core.db import scalar
from core.errors import PermissionDenied
from core.stamps import note_write

Role = Literal["admin", "agent", "system"]
ROLES: tuple[str, ...] = ("admin", "agent")
# Actors that are not people: the channels' ingest endpoint acts as "channels" (token-authenticated).
SYSTEM_ACTORS: dict[str, Role] = {"channels": "system"}


@dataclass(frozen=True)
class Rule:
    """An action, the roles that may do it, and whether agents are held to the contacts they may edit."""

    action: str
    roles: frozenset[str]
    words: str  # what the action is, for a refusal a user can read
    agent_own_contacts: bool = False


def _rule(action: str, roles: str, words: str, agent_own_contacts: bool = False) -> Rule:
    return Rule(action, frozenset(roles.split()), words, agent_own_contacts)


RULES: dict[str, Rule] = {
    rule.action: rule
    for rule in (
        _rule("contacts.create", "admin", "create contacts"),
        _rule("contacts.update", "admin agent", "edit this contact", agent_own_contacts=True),
        _rule("contacts.note", "admin agent", "add notes"),
        _rule("contacts.block", "admin agent", "block or unblock contacts"),
        _rule("contacts.delete", "admin", "delete contacts"),
        _rule("contacts.export", "admin", "export contacts (agents see and copy the list page itself)"),
        _rule("bulk.tags", "admin agent", "add or remove tags", agent_own_contacts=True),
        _rule("bulk.subscription", "admin agent", "change subscriptions", agent_own_contacts=True),
        _rule("bulk.assign", "admin", "assign contacts to owners"),
        _rule("bulk.block", "admin", "block or unblock many contacts at once"),
        _rule("bulk.delete", "admin", "bulk-delete contacts"),
        _rule("segments.save", "admin agent", "save segments"),
        _rule("segments.manage", "admin", "rename, change or delete segments"),
        _rule("import", "admin", "import contacts"),
        _rule("channels.ingest", "admin system", "load channel events"),
        _rule("duplicates.find", "admin", "run duplicate detection"),
        _rule("duplicates.not_duplicate", "admin", "mark contacts as not duplicates"),
        _rule("duplicates.merge", "admin", "merge contacts"),
        _rule("fields.manage", "admin", "change custom fields"),
        _rule("stages.manage", "admin", "change lead stages"),
        _rule("users.manage", "admin", "manage users"),
        _rule("settings.manage", "admin", "change workspace settings"),
        _rule("settings.ingest_token", "admin", "rotate the ingest token"),
        _rule("preferences.own", "admin agent", "keep table preferences"),
    )
}

# Public functions that write only inside a checked caller's transaction (they take no decision themselves).
HELPERS = frozenset(
    {
        "core.contacts.activity.record_activity",
        "core.contacts.activity.record_bulk_activity",
        "core.channels.writing.record_run",
        "core.views.bulk.run_bulk",  # dispatches to the checked bulk actions by name
        "core.accounts.audit.log_workspace_change",
        "core.jobs.start_job",  # checks the action it is given (require) before it records or runs anything
    }
)

WRITERS: dict[str, tuple[Callable[..., Any], str]] = {}  # qualified name -> (function, action)

P = ParamSpec("P")
R = TypeVar("R")


def role_of(con: duckdb.DuckDBPyConnection, actor: str | None) -> Role | None:
    """The actor's role: 'admin' or 'agent' for an active user, 'system' for a system actor, else None."""
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    return scalar(con, "SELECT role FROM owners WHERE owner_id = ? AND active", [actor])


def allowed(role: str | None, action: str) -> bool:
    """Whether a role may do an action at all (agents may still be held to their own contacts)."""
    return role is not None and role in RULES[action].roles


def require(con: duckdb.DuckDBPyConnection, actor: str | None, action: str, contact_id: str | None = None) -> Role:
    """Refuse (PermissionDenied) unless the actor may do `action` (on `contact_id`, when given); their role."""
    rule = RULES[action]
    role = role_of(con, actor)
    if role is None:
        raise PermissionDenied(f"'{actor}' is not an active user of this workspace.")
    if role not in rule.roles:
        raise PermissionDenied(f"Only admins can {rule.words}.")
    if role == "agent" and rule.agent_own_contacts and contact_id is not None:
        owner = scalar(con, "SELECT owner_id FROM contacts WHERE contact_id = ?", [contact_id])
        if owner is not None and owner != actor:
            raise PermissionDenied("Agents edit only their own contacts and unassigned ones; this one is not.")
    return role


def editable_condition(con: duckdb.DuckDBPyConnection, actor: str) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) of the contacts an actor may edit: all for admins."""
    if role_of(con, actor) == "admin":
        return "TRUE", {}
    return "(c.owner_id IS NULL OR c.owner_id = $editor)", {"editor": actor}


def writes(action: str, actor: str = "actor", contact: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a public writing function's action: it checks the acting user (parameter `actor`) first.

    `contact` names the parameter holding the one contact ID the action touches, for the agents' rule.
    """
    if action not in RULES:
        raise KeyError(f"no permission rule for {action!r}")

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            contact_id = bound.arguments.get(contact) if contact else None
            con = bound.arguments["con"]
            require(con, bound.arguments.get(actor), action, contact_id)
            try:
                result = function(*args, **kwargs)
            except BaseException:  # it may have committed part: a needless move costs a re-read, never a stale one
                with contextlib.suppress(Exception):  # the writer's own error is the one to see
                    note_write(action, con)
                raise
            note_write(action, con)  # committed
            return result

        checked.action = action  # type: ignore[attr-defined]
        checked.actor_parameter = actor  # type: ignore[attr-defined]
        WRITERS[f"{function.__module__}.{function.__qualname__}"] = (checked, action)
        return checked

    return decorate
