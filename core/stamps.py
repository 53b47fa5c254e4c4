"""Write stamps: counters that move after every checked write, so readers can cache what a write did not change.

Every public writing function of core declares its action (`@writes`, core/accounts/permissions.py); when one
returns, its transaction committed, and `note_write` moves the stamps its action touches:

- the workspace stamp: custom fields, lead stages, users and owners, settings, segments, table preferences, and
  imports (which may create custom fields). Field lists, owners, stages, segments and column choices are keyed on it.
- the contacts stamp: every write (any of them may change contacts, their tags, or what a segment holds). Segment
  counts and tag lists are keyed on it.

The counters live in this process: DuckDB lets one process at a time open a database file for writing, so every
write to the file the app serves goes through this process's writers. A reader that saw the old stamp may cache
the new data under it; that costs one extra read later, never a stale one: the stamp moves after the commit.
"""

import itertools
import threading

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

_lock = threading.Lock()
_ticks = itertools.count(1)
_workspace = 0
_contacts = 0


def note_write(action: str) -> None:
    """A writer with this action has just committed: move the stamps it may have changed."""
    global _workspace, _contacts
    with _lock:
        tick = next(_ticks)
        _contacts = tick
        if action in WORKSPACE_ACTIONS:
            _workspace = tick


def workspace_stamp() -> int:
    """Moves after each write to fields, stages, users, settings, segments, table preferences or an import."""
    return _workspace


def contacts_stamp() -> int:
    """Moves after every write."""
    return _contacts
