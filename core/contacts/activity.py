"""The activity log: who changed what, when, with the values before and after."""

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.db import Scratch


def now() -> datetime:
    """The current time as stored: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def changes_json(before: dict[str, Any], after: dict[str, Any]) -> str:
    """{"field": {"before": .., "after": ..}} for every field whose value differs."""
    diff = {
        key: {"before": _jsonable(before.get(key)), "after": _jsonable(value)}
        for key, value in after.items()
        if before.get(key) != value
    }
    return json.dumps(diff)


def record_activity(
    con: duckdb.DuckDBPyConnection,
    contact_id: str,
    actor: str,
    action: str,
    changes: str | None = None,
    at: datetime | None = None,
) -> None:
    """Add one entry to a contact's activity log."""
    con.execute(
        "INSERT INTO activity (contact_id, happened_at, actor, action, changes) VALUES (?, ?, ?, ?, ?)",
        [contact_id, at or now(), actor, action, changes],
    )


def record_bulk_activity(
    con: duckdb.DuckDBPyConnection,
    selected: Scratch,
    actor: str,
    action: str,
    changes: str | None,
    at: datetime | None = None,
) -> None:
    """One entry per contact whose ID `selected` (column contact_id) holds, all in one statement."""
    con.execute(
        "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
        f"SELECT contact_id, $at, $actor, $action, $changes FROM {selected}",
        {"at": at or now(), "actor": actor, "action": action, "changes": changes},
    )


def describe_changes(changes: str | None) -> str:
    """A readable line per changed field: 'Email: a@x.com → b@x.com'."""
    if not changes:
        return ""
    diff = json.loads(changes)
    if not isinstance(diff, dict):
        return str(diff)
    lines = []
    for key, values in diff.items():
        field = SYSTEM_FIELD_BY_KEY[key].label if key in SYSTEM_FIELD_BY_KEY else key.removeprefix("custom.")
        if isinstance(values, dict) and "after" in values:
            before, after = values.get("before"), values.get("after")
            lines.append(
                f"{field}: {_shown(before)} → {_shown(after)}" if before is not None else f"{field}: {_shown(after)}"
            )
        else:
            lines.append(f"{field}: {_shown(values)}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "(empty)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
