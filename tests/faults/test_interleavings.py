"""Deletes never leave orphans (issue 14, point 1): a delete interleaved with an ingest, a note, an edit, a
merge or an import, each with its own cursor in a thread; after each, no row points at a missing contact.

Each pairing runs three ways: the delete starts its transaction first and waits while the other commits; the
other starts first and waits while the delete commits; and both at once. One of the two may be refused with
a conflict; neither may leave rows behind. (Two processes cannot write one DuckDB file at once, so the races
are between threads of the one process that holds it, as in the app.)
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
import pytest

import core.channels.ingest
import core.contacts.records
import core.duplicates.merge
import core.importer.commit
import core.views.bulk
from core.channels.ingest import ingest_lines
from core.contacts.records import add_note, delete_contacts, get_contact, set_blocked, update_contact
from core.db import transaction
from core.duplicates.merge import merge_contacts
from core.errors import ContactsError
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.bulk import Selection
from core.views.bulk import delete as bulk_delete
from tests.faults.invariants import check, orphans
from tests.faults.workspace import inbox, open_workspace, seed, webchat

LATER = "2026-11-29T10:00:00Z"
Op = Callable[[duckdb.DuckDBPyConnection], object]


def _import(con: duckdb.DuckDBPyConnection) -> object:
    table = read_table("x.csv", b"email,Company\nx@example.com,Imported\n")
    plan = plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers), mode="upsert"))
    return commit_import(con, plan, "admin")


OTHERS: dict[str, Op] = {
    # Days after the seed's events: each opens a conversation (and the second adds an identity) for x.
    "ingest webchat": lambda con: ingest_lines(con, [webchat("x", "again", LATER)], "channels"),
    "ingest inbox identity": lambda con: ingest_lines(
        con, [inbox("x_on_telegram", "x@example.com", LATER, "Telegram")], "channels"
    ),
    "ingest refused": lambda con: (
        set_blocked(con, ["x"], True, "admin"),
        ingest_lines(con, [webchat("x", "refused", LATER)], "channels"),
    ),
    "note": lambda con: add_note(con, "x", "while deleting", "admin"),
    "edit": lambda con: update_contact(con, "x", {"company": "Edited"}, get_contact(con, "x").version, "admin"),
    "merge into x": lambda con: merge_contacts(con, "x", ["y"], "admin"),
    "merge x away": lambda con: merge_contacts(con, "y", ["x"], "admin"),
    "import": _import,
}
DELETES: dict[str, Op] = {
    "delete_contacts": lambda con: delete_contacts(con, ["x"], "admin", 1),
    "bulk delete": lambda con: bulk_delete(con, Selection(ids=["x"]), 1, "admin"),
}
EXPECTED = (ContactsError, duckdb.TransactionException)  # refused with a reason, or a conflict
PATCHED = (core.contacts.records, core.views.bulk, core.channels.ingest, core.importer.commit, core.duplicates.merge)


class Gate:
    """Holds the named thread right after its transaction began, until released."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name, self.began, self.go = thread_name, threading.Event(), threading.Event()


@pytest.fixture
def gates(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Gate]]:
    held: dict[str, Gate] = {}

    @contextmanager
    def gated(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        with transaction(con) as inside:
            gate = held.pop(threading.current_thread().name, None)
            if gate is not None:
                con.execute("SELECT count(*) FROM contacts").fetchall()  # the snapshot is taken
                gate.began.set()
                gate.go.wait(10)
            yield inside

    for module in PATCHED:
        monkeypatch.setattr(module, "transaction", gated)
    yield held


def _run(op: Op, con: duckdb.DuckDBPyConnection, outcome: dict[str, object], key: str) -> None:
    try:
        op(con)
        outcome[key] = "done"
    except EXPECTED as error:
        outcome[key] = f"refused: {type(error).__name__}"
    except BaseException as error:  # noqa: BLE001 - reported as the test's failure below
        outcome[key] = error
    finally:
        con.close()


def _race(db, first: Op, second: Op, held: dict[str, Gate] | None, order: str) -> dict[str, object]:
    """Run `first` in a thread (held after BEGIN when `held` is given) and `second` meanwhile."""
    outcome: dict[str, object] = {}
    one = threading.Thread(target=_run, args=(first, db.cursor(), outcome, "first"), name=f"first-{order}")
    if held is not None:
        gate = held[one.name] = Gate(one.name)
        one.start()
        assert gate.began.wait(10)
        _run(second, db.cursor(), outcome, "second")
        gate.go.set()
    else:
        two = threading.Thread(target=_run, args=(second, db.cursor(), outcome, "second"), name=f"second-{order}")
        one.start(), two.start()
        two.join(30)
    one.join(30)
    return outcome


@pytest.mark.parametrize("delete_name", DELETES)
@pytest.mark.parametrize("other_name", OTHERS)
@pytest.mark.parametrize("order", ["delete first", "other first", "together"])
@pytest.mark.parametrize("history", [False, True], ids=["fresh", "with history"])
def test_a_delete_racing_another_write_leaves_no_orphan(
    tmp_path, gates, tally, delete_name, other_name, order, history
):
    db = open_workspace(tmp_path / "race.duckdb")
    try:
        seed(db, history=history)
        deleting, other = DELETES[delete_name], OTHERS[other_name]
        if order == "delete first":
            outcome = _race(db, deleting, other, gates, order)
        elif order == "other first":
            outcome = _race(db, other, deleting, gates, order)
        else:
            outcome = _race(db, deleting, other, None, order)
        crashed = [value for value in outcome.values() if isinstance(value, BaseException)]
        problems = check(db)
        tally("interleavings (delete x ingest/note/edit/merge/import)", 1, bool(crashed or problems))
        assert not crashed, crashed
        assert problems == [], (outcome, orphans(db))
    finally:
        db.close()
