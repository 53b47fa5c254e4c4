"""The slow figures' last snapshot, kept in the database (table dashboard_snapshots, migration 048): any app
process's first view of the dashboard shows it at once, with its time, while one refresher across processes
computes newer figures behind it (ui/dashboard.py). Small workspaces compute on the spot and store nothing.

A snapshot is keyed by figure name and arguments (`figure_key`); its value is JSON, with frames as base64 Arrow
IPC, dates, tuples and the dashboard's models tagged (`encode` / `decode`: no code is ever run from the table, as
a pickle would). Its stamp is core.stamps.contacts_stamp read before computing: on PostgreSQL a database
sequence, the same in every process; on DuckDB a counter of the process, meaningless in another one, so a
snapshot stored by an earlier process is shown as behind (stamp -1) and refreshed.

One computer at a time, the first computation included: `claim` sets the row's `refreshing_until` (a lease: a
computer that died lets it lapse; `renewed` keeps it while the computation runs) with a conditional UPDATE, which on
PostgreSQL waits for a concurrent claim's commit and then sees it taken. With no row yet, the claim inserts a
placeholder (`seconds` < 0, never read as figures), so of three app processes starting cold one computes and the
others wait for its snapshot (`computed_once`). Only the lease's holder ends it (the store or `release` of another
process's lapsed claim leaves the live one). A DuckDB file has one process, whose board (ui/dashboard.py) lets one
thread at a time refresh a figure.
"""

import base64
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
WAIT_POLL = 0.5  # seconds between two looks for the snapshot another process is computing
PENDING = -1.0  # the `seconds` of a placeholder row: claimed for a first computation, no figures yet
_PROCESS = uuid.uuid4().hex  # the stamp domain of a one-writer store (DuckDB): this process's counter
_MODELS: dict[str, type[BaseModel]] = {"Kpis": Kpis, "DuplicateRate": DuplicateRate}


class Snapshot(NamedTuple):
    """Figures as of a write stamp: when they were computed and how long that took."""

    stamp: int
    value: Any
    computed_at: datetime
    seconds: float


@dataclass
class Lease:
    """A caller's claim on a figure: until when it holds (its token: only the holder's `until` ends or renews it)."""

    key: str
    until: datetime
    length: timedelta


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
    found = rows(
        con, "SELECT stamp_domain, stamp FROM dashboard_snapshots WHERE figure_key = ? AND seconds >= 0", [key]
    )
    if not found:
        return None
    stamp = int(found[0][1]) if found[0][0] == _domain(con) else STALE
    if newer_than is not None and stamp <= newer_than:
        return None
    kept = rows(
        con, "SELECT value, computed_at, seconds FROM dashboard_snapshots WHERE figure_key = ? AND seconds >= 0", [key]
    )
    if not kept:  # replaced meanwhile by a newer one: the next rerun reads it
        return None
    value, computed_at, seconds = kept[0]
    return Snapshot(stamp, decode(value), computed_at, float(seconds))


def store(con: duckdb.DuckDBPyConnection, key: str, shot: Snapshot, lease: Lease | None = None) -> None:
    """Keep a snapshot in place of the stored one, unless that one is newer (same stamp domain, later stamp); either
    way `lease`, the caller's claim, ends (another process's live claim stays). A failure is logged and leaves the
    stored one: it is only a cache."""
    domain = _domain(con)
    try:
        with transaction(con):
            con.execute(
                "INSERT INTO dashboard_snapshots "
                "(figure_key, stamp_domain, stamp, value, computed_at, seconds, refreshing_until) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (figure_key) DO UPDATE SET "
                "stamp_domain = excluded.stamp_domain, stamp = excluded.stamp, value = excluded.value, "
                "computed_at = excluded.computed_at, seconds = excluded.seconds "
                "WHERE dashboard_snapshots.seconds < 0 OR dashboard_snapshots.stamp_domain <> excluded.stamp_domain "
                "OR dashboard_snapshots.stamp <= excluded.stamp",
                [key, domain, shot.stamp, encode(shot.value), shot.computed_at, shot.seconds],
            )
            if lease is not None:
                _end(con, lease)
            # Charts of other spans and grains are kept too: those nobody computed for a while are let go.
            con.execute(
                "DELETE FROM dashboard_snapshots WHERE computed_at < ? AND figure_key <> ?",
                [shot.computed_at - KEEP_FOR, key],
            )
    except Exception:  # noqa: BLE001 - a snapshot not kept costs the next process one computation, not the page
        log.warning("dashboard snapshot %s not kept", key, exc_info=True)


def claim(con: duckdb.DuckDBPyConnection, key: str, seconds: float, moment: datetime | None = None) -> Lease | None:
    """This caller's claim to compute the figure now, if no other holds it: the stored snapshot's claim is free (or
    lapsed), or nothing is stored (then a placeholder row holds it). It lasts about 4 times `seconds` (what the last
    computation took), at least MIN_LEASE; `renewed` extends it while the computation runs."""
    moment = moment or datetime.now()
    length = max(MIN_LEASE, timedelta(seconds=4 * seconds))
    lease = Lease(key, moment + length, length)
    try:
        with transaction(con):
            taken = rows(
                con,
                "UPDATE dashboard_snapshots SET refreshing_until = ? "
                "WHERE figure_key = ? AND (refreshing_until IS NULL OR refreshing_until < ?) RETURNING figure_key",
                [lease.until, key, moment],
            ) or rows(
                con,
                "INSERT INTO dashboard_snapshots "
                "(figure_key, stamp_domain, stamp, value, computed_at, seconds, refreshing_until) "
                "VALUES (?, ?, ?, 'null', ?, ?, ?) ON CONFLICT (figure_key) DO NOTHING RETURNING figure_key",
                [key, _domain(con), STALE, moment, PENDING, lease.until],
            )
    except Exception:  # noqa: BLE001 - DuckDB: another cursor's claim or store of this row won; try next time
        log.warning("dashboard snapshot %s not claimed", key, exc_info=True)
        return None
    return lease if taken else None


def _end(con: duckdb.DuckDBPyConnection, lease: Lease) -> None:
    con.execute(
        "UPDATE dashboard_snapshots SET refreshing_until = NULL WHERE figure_key = ? AND refreshing_until = ?",
        [lease.key, lease.until],
    )
    con.execute("DELETE FROM dashboard_snapshots WHERE figure_key = ? AND seconds < 0", [lease.key])


def release(con: duckdb.DuckDBPyConnection, lease: Lease) -> None:
    """End this caller's claim without a snapshot (its computation failed, or is not worth keeping): another process
    may compute. A placeholder row goes with it."""
    try:
        with transaction(con):
            _end(con, lease)
    except Exception:  # noqa: BLE001 - the claim lapses on its own
        log.warning("dashboard snapshot %s not released", lease.key, exc_info=True)


@contextmanager
def renewed(con: duckdb.DuckDBPyConnection, lease: Lease) -> Iterator[Lease]:
    """Keep `lease` while the block runs (a first computation's length is unknown): a thread on a cursor of its own
    extends it by its length every third of it, as long as it is still this caller's."""
    stop = threading.Event()
    cursor = con.cursor()

    def renew() -> None:
        while not stop.wait(lease.length.total_seconds() / 3):
            until = datetime.now() + lease.length
            try:
                held = rows(
                    cursor,
                    "UPDATE dashboard_snapshots SET refreshing_until = ? "
                    "WHERE figure_key = ? AND refreshing_until = ? RETURNING figure_key",
                    [until, lease.key, lease.until],
                )
            except Exception:  # noqa: BLE001 - not renewed: it may lapse, and another process compute too
                log.warning("dashboard snapshot %s claim not renewed", lease.key, exc_info=True)
                continue
            if not held:
                return
            lease.until = until

    renewer = threading.Thread(target=renew, name=f"dashboard-lease-{lease.key[:20]}", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join()
        cursor.close()


def _pending(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """Whether another caller holds a live claim on the figure."""
    return bool(
        rows(
            con,
            "SELECT 1 FROM dashboard_snapshots WHERE figure_key = ? AND refreshing_until >= ?",
            [key, datetime.now()],
        )
    )


def computed_once(
    con: duckdb.DuckDBPyConnection, key: str, compute: Callable[[], Snapshot], keep_from: float
) -> Snapshot:
    """The figure as nobody has it yet (no snapshot in this process nor stored), computed by one caller across
    processes: the stored snapshot if one appears, else this caller's computation under the figure's claim, else
    (another holds the claim) the snapshot it stores, waited for; past a lapsed claim this caller computes. A
    computation that took `keep_from` seconds or more is stored; a quicker one is not, and ends the claim."""
    while True:
        found = load(con, key)
        if found is not None:
            return found
        lease = claim(con, key, 0.0)
        if lease is None and _pending(con, key):
            time.sleep(WAIT_POLL)
            continue
        if lease is None:  # unclaimable here (a read-only store?) and nobody computing: compute unclaimed
            return compute()
        try:
            with renewed(con, lease):
                shot = compute()
        except BaseException:
            release(con, lease)
            raise
        if shot.seconds >= keep_from:
            store(con, key, shot, lease)
        else:
            release(con, lease)
        return shot
