"""Fixtures shared by the core tests: a fresh in-memory database and one contact factory, one line each to use."""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import duckdb
import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import write_values
from core.contacts.models import Contact, ContactInput
from core.contacts.records import create_contact, get_contact
from core.db import open_database
from core.stamps import note_write
from core.views.search_index import refresh_search_index

T0 = datetime(2024, 1, 1, 9, 0)

AddContact = Callable[..., Contact]


@pytest.fixture
def fresh_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory contacts database with every migration applied and its admin, "admin" (no password)."""
    con = open_database()
    bootstrap_admin(con)
    yield con
    con.close()


def _store(con: duckdb.DuckDBPyConnection, contact_id: str, custom: dict[str, Any], fields: dict[str, Any]) -> None:
    values = {"contact_id": contact_id, "created_on": T0, "last_updated": T0, **fields}
    columns = list(values)
    con.execute(f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join('$' + c for c in columns)})", values)
    write_values(con, contact_id, custom)
    refresh_search_index(con, [contact_id])  # written as given, past the write paths that keep the index
    note_write("contacts.create", con)  # as the app's writers do: what a process keeps until the next write goes


@pytest.fixture(scope="session")  # it holds no state: module-scoped fixtures may use it too
def add_contact() -> AddContact:
    """The contact factory: `add_contact(con, "ada", first_name="Ada", custom={...})` returns the stored Contact.

    By default the values go through `create_contact` (validated, normalised, logged) as `actor`;
    `stored=True` writes them exactly as given (created and updated at T0 unless given), for tests
    that need values or times the app would never write itself.
    """

    def add(
        con: duckdb.DuckDBPyConnection,
        contact_id: str | None = None,
        *,
        custom: dict[str, Any] | None = None,
        stored: bool = False,
        actor: str = "admin",
        **fields: Any,
    ) -> Contact:
        if stored:
            if contact_id is None:
                raise ValueError("a stored contact needs its contact_id")
            _store(con, contact_id, custom or {}, fields)
            return get_contact(con, contact_id)
        data = ContactInput(contact_id=contact_id, custom=custom or {}, **fields)
        return create_contact(con, data, actor)

    return add


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and AppTest page tests run the whole app (seconds each): `make test-fast` leaves them out."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if "browser" in item.path.parts or "pages" in item.path.parts:
            item.add_marker(pytest.mark.slow)


# --- The fault suite's tallies (tests/faults): a line per group after the run, gathered from xdist workers ---


def pytest_configure(config: pytest.Config) -> None:
    config.fault_tallies = {}  # type: ignore[attr-defined]  # group -> [tries, failures]


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the tallies to the controller
        session.config.workeroutput["fault_tallies"] = session.config.fault_tallies  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for group, (tries, failures) in node.workeroutput.get("fault_tallies", {}).items():
        line = node.config.fault_tallies.setdefault(group, [0, 0])
        line[0] += tries
        line[1] += failures


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    tallies = getattr(config, "fault_tallies", {})
    if tallies:
        terminalreporter.section("fault suite tallies")
        for group, (tries, failures) in sorted(tallies.items()):
            terminalreporter.write_line(f"{group}: {tries} tries, {failures} failures")
