"""Write stamps: counters that move after every checked write, so readers can cache what a write did not change.

Every public writing function of core declares its action (`@writes`, core/accounts/permissions.py); when one
returns, its transaction committed, and `note_write` moves the stamps its action touches:

- the workspace stamp: custom fields, lead stages, users and owners, settings, segments, table preferences, and
  imports (which may create custom fields). Field lists, owners, stages, segments and column choices are keyed on it.
- the contacts stamp: every write (any of them may change contacts, their tags, or what a segment holds). Segment
  counts and tag lists are keyed on it.

Where the stamps live depends on who may write the database (`dialect(con).one_writer_process`):

- a DuckDB file: in this process. DuckDB lets one process at a time open a file for writing, so every write to
  the file the app serves goes through this process's writers. Reading a counter costs 0.1 µs; a query on a
  one-row table costs 160 µs of CPU (310 µs wall) on DuckDB, and a rerun of the contacts list reads a stamp 9
  times (the dashboard 3): 1.4 ms of CPU a rerun as queries.
- PostgreSQL: in the database, two sequences (migration 026): several app processes share it, and each must see
  the others' writes. `note_write` moves them (nextval: never waits for another session nor conflicts with one)
  and the stamp functions read them (last_value, the latest across sessions whatever the reader's snapshot):
  a round trip on the reader's session: 23 µs wall (13 µs of the app's CPU) on a local socket, so 0.2 ms a
  contacts list rerun; a move 33 µs CPU.

A reader that saw the old stamp may cache the new data under it; that costs one extra read later, never a stale
one: the stamp moves after the commit.
"""

import itertools
import threading

import duckdb

from core.db.dialect import dialect

WORKSPACE_ACTIONS = frozenset(
    {
        "fields.manage",
        "stages.manage",
        "users.manage",
        "settings.manage",
        "settings.ingest_token",
        "segments.save",
        "segments.manage",
        "preferences.own",
        "import",
    }
)

# PostgreSQL (migration 026): the sequences, moved after a write and read by every process.
_MOVE_CONTACTS = "SELECT nextval('write_stamp_contacts')"
_MOVE_BOTH = "SELECT nextval('write_stamp_workspace'), nextval('write_stamp_contacts')"
_READ_WORKSPACE = "SELECT last_value FROM write_stamp_workspace"
_READ_CONTACTS = "SELECT last_value FROM write_stamp_contacts"

_lock = threading.Lock()
_ticks = itertools.count(1)
_workspace = 0
_contacts = 0


def note_write(action: str, con: duckdb.DuckDBPyConnection) -> None:
    """A writer with this action has just committed on `con`: move the stamps it may have changed."""
    global _workspace, _contacts
    with _lock:
        tick = next(_ticks)
        _contacts = tick
        if action in WORKSPACE_ACTIONS:
            _workspace = tick
    if dialect(con).one_writer_process:
        return
    # A session of its own: `con` may be inside a caller's transaction, or one a failure left aborted.
    session = con.cursor()
    try:
        session.execute(_MOVE_BOTH if action in WORKSPACE_ACTIONS else _MOVE_CONTACTS).fetchall()
    finally:
        session.close()


def workspace_stamp(con: duckdb.DuckDBPyConnection) -> int:
    """Moves after each write to fields, stages, users, settings, segments, table preferences or an import."""
    if dialect(con).one_writer_process:
        return _workspace
    return int(con.execute(_READ_WORKSPACE).fetchall()[0][0])


def contacts_stamp(con: duckdb.DuckDBPyConnection) -> int:
    """Moves after every write."""
    if dialect(con).one_writer_process:
        return _contacts
    return int(con.execute(_READ_CONTACTS).fetchall()[0][0])
