"""Every public writing function of core × every kind of user: allowed or refused as core.accounts.permissions says.

Writers register themselves with `@writes(action)`, so a new one is walked here without a line added; a public
function that takes an acting user (`actor`) but has no rule fails `test_every_function_with_an_actor_is_checked`.
"""

import importlib
import inspect
import pkgutil

import pytest

import core
from core.accounts.permissions import HELPERS, RULES, WRITERS, require
from core.accounts.users import deactivate_user
from core.errors import PermissionDenied
from core.workspace import add_owner


def _import_all() -> None:
    for module in pkgutil.walk_packages(core.__path__, "core."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


_import_all()
KINDS = ("admin", "agent", "deactivated", "unknown")
ACTORS = {"admin": "admin", "agent": "maria", "deactivated": "gone", "unknown": "nobody"}


@pytest.fixture
def team(fresh_db):
    add_owner(fresh_db, "maria", "Maria", role="agent", actor="admin")
    add_owner(fresh_db, "gone", "Gone", role="agent", actor="admin")
    deactivate_user(fresh_db, "gone", None, actor="admin")
    return fresh_db


def _call(function, action_actor: str, con, actor: str) -> None:
    """Call a writer with the connection, the actor and placeholders: the check runs before anything else."""
    arguments = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "con":
            arguments[name] = con
        elif name == action_actor:
            arguments[name] = actor
        elif parameter.default is inspect.Parameter.empty:
            arguments[name] = None
    function(**arguments)


def test_the_registry_holds_the_writers():
    assert len(WRITERS) >= 30
    assert {action for _, action in WRITERS.values()} <= set(RULES)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_writer_allows_or_refuses_each_kind_of_user(team, name, kind):
    function, action = WRITERS[name]
    expected = kind in ("admin", "agent") and ("admin" if kind == "admin" else "agent") in RULES[action].roles
    try:
        _call(function, function.actor_parameter, team, ACTORS[kind])
    except PermissionDenied:
        assert not expected, f"{name} refused a {kind} it should allow"
        return
    except Exception:  # noqa: BLE001 - past the check, the placeholders make the body fail: the user was allowed
        pass
    assert expected, f"{name} let a {kind} user through"


def test_agents_edit_only_their_own_and_unassigned_contacts(team, add_contact):
    add_contact(team, "mine", email="mine@example.com", owner_id="maria")
    add_contact(team, "free", email="free@example.com")
    add_contact(team, "theirs", email="theirs@example.com", owner_id="admin")
    require(team, "maria", "contacts.update", "mine")
    require(team, "maria", "contacts.update", "free")
    with pytest.raises(PermissionDenied, match="only their own"):
        require(team, "maria", "contacts.update", "theirs")
    require(team, "admin", "contacts.update", "theirs")


AGENTS_MAY_NOT = (
    "import",
    "contacts.export",
    "bulk.delete",
    "contacts.delete",
    "duplicates.merge",
    "duplicates.not_duplicate",
    "fields.manage",
    "stages.manage",
    "users.manage",
    "settings.manage",
    "settings.ingest_token",
)


@pytest.mark.parametrize("action", AGENTS_MAY_NOT)
def test_the_table_keeps_agents_out_of_admin_work(action):
    assert RULES[action].roles <= {"admin", "system"}


def test_every_function_with_an_actor_is_checked():
    """A public core function that takes an acting user writes something: it needs a rule (or to be a helper)."""
    unchecked = []
    for module in pkgutil.walk_packages(core.__path__, "core."):
        if module.name.endswith("__main__") or ".cli" in module.name or module.name == "core.accounts.permissions":
            continue
        loaded = importlib.import_module(module.name)
        for attribute, function in vars(loaded).items():
            if attribute.startswith("_") or not inspect.isfunction(function):
                continue
            original = inspect.unwrap(function)
            if original.__module__ != module.name:
                continue  # imported from elsewhere: checked where it is defined
            name = f"{module.name}.{original.__qualname__}"
            if "actor" in inspect.signature(original).parameters and name not in WRITERS and name not in HELPERS:
                unchecked.append(name)
    assert unchecked == [], unchecked
