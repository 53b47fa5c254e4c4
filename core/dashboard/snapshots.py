"""The slow figures' last snapshot, kept in the database (table dashboard_snapshots, migration 048): any app
process's first view of the dashboard shows it at once, with its time, while one refresher across processes
computes newer figures behind it (ui/dashboard.py). Small workspaces compute on the spot and store nothing.

A snapshot is keyed by figure name and arguments (`figure_key`); its value is JSON, with frames as base64 Arrow
IPC, dates, tuples and the dashboard's models tagged (`encode` / `decode`: no code is ever run from the table, as
a pickle would). Its stamp is core.stamps.contacts_stamp read before computing: on PostgreSQL a database
sequence, the same in every process; on DuckDB a counter of the process, meaningless in another one, so a
snapshot stored by an earlier process is shown as behind (stamp -1) and refreshed.

One refresher at a time: `claim` sets the row's `refreshing_until` (a lease: a refresher that died lets it lapse)
with a conditional UPDATE, which on PostgreSQL waits for a concurrent claim's commit and then sees it taken; a
DuckDB file has one process, whose board (ui/dashboard.py) lets one thread at a time refresh a figure.
"""

import base64
import io
import json
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import duckdb
import polars as pl
from pydantic import BaseModel

from core.dashboard.figures import DuplicateRate, Kpis
from core.db import rows, transaction
from core.db.dialect import dialect

log = logging.getLogger(__name__)

STALE = -1  # the stamp of a snapshot whose stamp is not comparable with this process's (DuckDB, another process)
KEEP_FOR = timedelta(days=30)  # a snapshot not computed again for this long is deleted by the next store
MIN_LEASE = timedelta(seconds=60)  # a refresher's claim lasts at least this, and 4 times the last computation
_PROCESS = uuid.uuid4().hex  # the stamp domain of a one-writer store (DuckDB): this process's counter
_MODELS: dict[str, type[BaseModel]] = {"Kpis": Kpis, "DuplicateRate": DuplicateRate}


class Snapshot(NamedTuple):
    """Figures as of a write stamp: when they were computed and how long that took."""

    stamp: int
    value: Any
    computed_at: datetime
    seconds: float


def figure_key(name: str, *args: object) -> str:
    """A figure and its arguments as the table's key."""
    return json.dumps([name, *(_encode(arg) for arg in args)], sort_keys=True)


def _domain(con: duckdb.DuckDBPyConnection) -> str:
    return _PROCESS if dialect(con).one_writer_process else "database"


def _encode(value: Any) -> Any:
    if isinstance(value, pl.DataFrame):
        buffer = io.BytesIO()
        value.write_ipc(buffer)
        return {"$frame": base64.b64encode(buffer.getvalue()).decode("ascii")}
    if isinstance(value, BaseModel):
        name = type(value).__name__
        if _MODELS.get(name) is not type(value):
            raise TypeError(f"cannot keep a {name} in a dashboard snapshot")
        return {"$model": name, "fields": value.model_dump(mode="json")}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {"$dict": {str(key): _encode(item) for key, item in value.items()}}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in a dashboard snapshot")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$frame" in value:
        return pl.read_ipc(io.BytesIO(base64.b64decode(value["$frame"])))
    if "$model" in value:
        return _MODELS[value["$model"]].model_validate(value["fields"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$tuple" in value:
        return tuple(_decode(item) for item in value["$tuple"])
    if "$dict" in value:
        return {key: _decode(item) for key, item in value["$dict"].items()}
    raise ValueError(f"not a dashboard snapshot value: {sorted(value)}")


def encode(value: Any) -> str:
    """Figures as the table's JSON text."""
    return json.dumps(_encode(value))


def decode(text: str) -> Any:
    """The figures `encode` gave this text for."""
    return _decode(json.loads(text))


def load(con: duckdb.DuckDBPyConnection, key: str, newer_than: int | None = None) -> Snapshot | None:
    """The stored snapshot of a figure, if newer than the stamp `newer_than` (any, when None). Its value is read
    only then: a rerun whose figures are current reads nothing, one that is behind reads one small row."""
    found = rows(con, "SELECT stamp_domain, stamp FROM dashboard_snapshots WHERE figure_key = ?", [key])
    if not found:
        return None
    stamp = int(found[0][1]) if found[0][0] == _domain(con) else STALE
    if newer_than is not None and stamp <= newer_than:
        return None
    kept = rows(con, "SELECT value, computed_at, seconds FROM dashboard_snapshots WHERE figure_key = ?", [key])
    if not kept:  # replaced meanwhile by a newer one: the next rerun reads it
        return None
    value, computed_at, seconds = kept[0]
    return Snapshot(stamp, decode(value), computed_at, float(seconds))


def store(con: duckdb.DuckDBPyConnection, key: str, shot: Snapshot) -> None:
    """Keep a snapshot in place of the stored one, unless that one is newer (same stamp domain, later stamp); either
    way the figure's refresh claim ends. A failure is logged and leaves the stored one: it is only a cache."""
    domain = _domain(con)
    try:
        with transaction(con):
            con.execute(
                "DELETE FROM dashboard_snapshots WHERE figure_key = ? AND (stamp_domain <> ? OR stamp <= ?)",
                [key, domain, shot.stamp],
            )
            con.execute(
                "INSERT INTO dashboard_snapshots "
                "(figure_key, stamp_domain, stamp, value, computed_at, seconds, refreshing_until) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (figure_key) DO NOTHING",
                [key, domain, shot.stamp, encode(shot.value), shot.computed_at, shot.seconds],
            )
            con.execute("UPDATE dashboard_snapshots SET refreshing_until = NULL WHERE figure_key = ?", [key])
            # Charts of other spans and grains are kept too: those nobody computed for a while are let go.
            con.execute(
                "DELETE FROM dashboard_snapshots WHERE computed_at < ? AND figure_key <> ?",
                [shot.computed_at - KEEP_FOR, key],
            )
    except Exception:  # noqa: BLE001 - a snapshot not kept costs the next process one computation, not the page
        log.warning("dashboard snapshot %s not kept", key, exc_info=True)


def claim(con: duckdb.DuckDBPyConnection, key: str, seconds: float, moment: datetime | None = None) -> bool:
    """Whether this caller may refresh the figure now: no stored snapshot, or its claim is free (or lapsed) and is
    now this caller's until about 4 times `seconds` (what the last computation took) have passed."""
    moment = moment or datetime.now()
    until = moment + max(MIN_LEASE, timedelta(seconds=4 * seconds))
    try:
        taken = rows(
            con,
            "UPDATE dashboard_snapshots SET refreshing_until = ? "
            "WHERE figure_key = ? AND (refreshing_until IS NULL OR refreshing_until < ?) RETURNING figure_key",
            [until, key, moment],
        )
    except Exception:  # noqa: BLE001 - DuckDB: another cursor's claim or store of this row won; try next time
        log.warning("dashboard snapshot %s not claimed", key, exc_info=True)
        return False
    if taken:
        return True
    return not rows(con, "SELECT 1 FROM dashboard_snapshots WHERE figure_key = ?", [key])


def release(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """End a claim whose refresh failed: another process may try."""
    con.execute("UPDATE dashboard_snapshots SET refreshing_until = NULL WHERE figure_key = ?", [key])
