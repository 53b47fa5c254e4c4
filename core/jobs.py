"""Background jobs: long work run in the app process on its own cursor, one at a time per kind, kept in `jobs`.

A job is a callable `work(con, progress) -> dict` (its result, stored as JSON). `start_job` checks that the
acting user may do the job's action (core/accounts/permissions.py), records the job and runs it in a thread
on a cursor of its own; `progress(fraction, message)` updates the row, which pages poll. A page finds the job
of its kind again after a reload with `latest_job`. Jobs still running when the process ended are marked
'interrupted' by `mark_interrupted` when the next process opens the database.
"""

import contextlib
import json
import logging
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

import duckdb
from pydantic import BaseModel

from core.accounts.permissions import require
from core.contacts.activity import now
from core.db import frame, rows, transaction
from core.db.dialect import dialect
from core.errors import ContactsError

JobState = Literal["queued", "running", "done", "failed", "interrupted"]
Progress = Callable[[float, str], None]
Work = Callable[[duckdb.DuckDBPyConnection, Progress], dict[str, Any]]

JOB_NICENESS = 10  # a job's thread yields the cores to interactive script runs (Linux: a thread has its own nice)
log = logging.getLogger(__name__)
_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}  # kind -> the thread running a job of that kind in this process
_duckdb_threads: dict[str, tuple[int, int]] = {}  # database file -> (jobs running on it, DuckDB's threads before)
# Several app processes on one PostgreSQL (dialect(con).one_writer_process is False; make run-cluster): the process
# running a job holds a session-level advisory lock (JOB_LOCK, job_id) on the job's progress session until the job
# ends or the process dies, so another process tells a live job from one a dead process left ('running' in both):
# a process that starts marks only the latter interrupted, and a second job of a kind is not started meanwhile.
JOB_LOCK = 16_017
JOB_START_LOCK = 16_018  # with a kind's key: held while a process checks for a running job and records its own


class Job(BaseModel):
    """One background job: what, for whom, how far it got, and what it gave (or why it failed)."""

    job_id: int
    kind: str
    state: JobState
    progress: float
    message: str
    result: dict[str, Any] | None
    actor: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


def _jobs(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[Job]:
    found = frame(con, f"SELECT * FROM jobs WHERE {where} ORDER BY job_id DESC LIMIT 1", params).to_dicts()
    for row in found:
        row["result"] = json.loads(row["result"]) if row["result"] is not None else None
    return [Job(**row) for row in found]


def get_job(con: duckdb.DuckDBPyConnection, job_id: int) -> Job | None:
    """The job with this ID, or None."""
    found = _jobs(con, "job_id = ?", [job_id])
    return found[0] if found else None


def latest_job(con: duckdb.DuckDBPyConnection, kind: str, started_by: str | None = None) -> Job | None:
    """The newest job of a kind (started by this user, when given): what a page shows again after a reload."""
    if started_by is None:
        found = _jobs(con, "kind = ?", [kind])
    else:
        found = _jobs(con, "kind = ? AND actor = ?", [kind, started_by])
    return found[0] if found else None


def start_job(
    con: duckdb.DuckDBPyConnection, kind: str, actor: str, action: str, work: Work, message: str = "Starting…"
) -> Job:
    """Run `work` in the background as `actor`, who must be allowed `action`; the job of this kind already running
    is returned instead of a second one (one at a time per kind). `message` is shown until the work reports its
    own progress (recorded with the job, so the page that started it shows it whatever the thread has done)."""
    require(con, actor, action)
    shared = not dialect(con).one_writer_process  # other processes may run jobs on this database
    with _lock:
        running = _threads.get(kind)
        if running is not None and running.is_alive() and not shared:
            current = latest_job(con, kind)
            if current is not None and current.active:
                return current
        # Cursors made here, in the caller's thread: one for the work (its transactions), one for progress
        # (so that progress is visible while the work's transaction is still open).
        work_con, progress_con = con.cursor(), con.cursor()
        job_id = _record(progress_con, kind, actor, message, shared)
        if job_id is None:  # another process runs a job of this kind
            work_con.close()
            progress_con.close()
            current = latest_job(con, kind)
            assert current is not None
            return current
        thread = threading.Thread(
            target=_run,
            args=(work_con, progress_con, job_id, work),
            name=f"job-{kind}-{job_id}",
            daemon=True,
        )
        _threads[kind] = thread
        thread.start()
    found = get_job(con, job_id)
    assert found is not None  # inserted just above
    return found


def _record(con: duckdb.DuckDBPyConnection, kind: str, actor: str, message: str, shared: bool) -> int | None:
    """Record a running job of a kind and return its ID, or None when another process runs one (shared stores)."""
    if not shared:
        return _insert(con, kind, actor, message, shared)
    # Starts of a kind take turns across processes, under a session lock taken before the transaction begins: a
    # PostgreSQL transaction reads from a snapshot made at its first statement, so one that began before the lock
    # was granted would not see the job the process before it just recorded.
    turn = [JOB_START_LOCK, _kind_key(kind)]
    con.execute(dialect(con).session_lock(take=True), turn).fetchall()
    try:
        current = latest_job(con, kind)
        if current is not None and current.active and _held(con, current.job_id):
            return None
        return _insert(con, kind, actor, message, shared)
    finally:
        con.execute(dialect(con).session_lock(take=False), turn).fetchall()


def _insert(con: duckdb.DuckDBPyConnection, kind: str, actor: str, message: str, shared: bool) -> int:
    with transaction(con):  # the row and, on PostgreSQL, its lock at once: never seen unheld
        job_id = int(
            con.execute(
                "INSERT INTO jobs (kind, state, message, actor, created_at, started_at) "
                "VALUES (?, 'running', ?, ?, ?, ?) RETURNING job_id",
                [kind, message, actor, now(), now()],
            ).fetchall()[0][0]
        )
        if shared:
            con.execute(dialect(con).session_lock(take=True), [JOB_LOCK, job_id]).fetchall()
    return job_id


def _run(work_con: duckdb.DuckDBPyConnection, progress_con: duckdb.DuckDBPyConnection, job_id: int, work: Work) -> None:
    def progress(fraction: float, message: str) -> None:
        progress_con.execute(
            "UPDATE jobs SET progress = ?, message = ? WHERE job_id = ?",
            [min(max(fraction, 0.0), 1.0), message, job_id],
        )

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the job runs at the usual priority
        pass
    try:
        with _one_query_thread(progress_con):
            result = work(work_con, progress)
        progress_con.execute(
            "UPDATE jobs SET state = 'done', progress = 1, message = 'Done.', result = ?, finished_at = ? "
            "WHERE job_id = ?",
            [json.dumps(result, default=str), now(), job_id],
        )
    except ContactsError as refused:  # a user can read these
        _finish_failed(progress_con, job_id, str(refused))
    except Exception as error:  # noqa: BLE001 - a background failure must reach the page, not vanish with the thread
        log.exception("job %s failed", job_id)
        _finish_failed(progress_con, job_id, f"The job failed: {type(error).__name__}: {error}")
    finally:
        work_con.close()
        if not dialect(progress_con).one_writer_process:
            with contextlib.suppress(Exception):  # a lost session has let the lock go already
                progress_con.execute(dialect(progress_con).session_lock(take=False), [JOB_LOCK, job_id]).fetchall()
        progress_con.close()


def _kind_key(kind: str) -> int:
    """A job kind as a lock key: the same integer in every process (Python's hash of a str is salted per process)."""
    return zlib.crc32(kind.encode()) & 0x7FFF_FFFF


def _held(con: duckdb.DuckDBPyConnection, job_id: int) -> bool:
    """PostgreSQL: whether a live session (of any app process) holds this job's lock: it is running."""
    return bool(rows(con, "SELECT " + dialect(con).session_lock_held(str(JOB_LOCK), "?"), [job_id])[0][0])


@contextmanager
def _one_query_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """While jobs run, DuckDB runs each query on the thread that asked for it (threads = 1), then as before.
    Nothing to set on PostgreSQL (the dialect's threads_setting is None): the server runs the queries.

    DuckDB's worker threads serve the tasks of every query alike and are not niced as the job's own thread is:
    with them a job's SQL takes the cores from the users' script runs. At 1,000,000 contacts during a duplicate
    detection, 4 users' p95 was 0.84 and 0.74 s with one thread against 1.19 and 1.34 s with DuckDB's default
    (make bench-load --detect, runs paired on a 2-core machine loaded by other work); the job takes longer.
    """
    d = dialect(con)
    setting = d.threads_setting
    if setting is None:
        yield
        return
    database = str(rows(con, d.database_file_sql())[0][0])
    with _lock:
        running, before = _duckdb_threads.get(database, (0, 0))
        if running == 0:
            before = int(rows(con, f"SELECT current_setting('{setting}')")[0][0])
            con.execute(f"SET {setting} = 1")
        _duckdb_threads[database] = (running + 1, before)
    try:
        yield
    finally:
        with _lock:
            running, before = _duckdb_threads.pop(database)
            if running > 1:
                _duckdb_threads[database] = (running - 1, before)
            else:
                con.execute(f"SET {setting} = {before}")


def _finish_failed(con: duckdb.DuckDBPyConnection, job_id: int, message: str) -> None:
    con.execute(
        "UPDATE jobs SET state = 'failed', message = ?, finished_at = ? WHERE job_id = ?", [message, now(), job_id]
    )


def wait_for_job(kind: str, timeout: float | None = None) -> None:
    """Block until this process's job of a kind (if any) has finished: for tests and the command line."""
    thread = _threads.get(kind)
    if thread is not None:
        thread.join(timeout)


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> int:
    """Mark the jobs a previous process left queued or running as interrupted (call once when the app opens
    its database); how many there were."""
    with _lock:
        alive = [kind for kind, thread in _threads.items() if thread.is_alive()]
        placeholders = ", ".join("?" for _ in alive)
        spare = f" AND kind NOT IN ({placeholders})" if alive else ""
        if not dialect(con).one_writer_process:  # not the jobs other live processes run
            spare += " AND NOT " + dialect(con).session_lock_held(str(JOB_LOCK), "jobs.job_id")
        found = con.execute(
            "UPDATE jobs SET state = 'interrupted', finished_at = ?, "
            "message = 'The app restarted while this job ran: it did not finish. Start it again.' "
            f"WHERE state IN ('queued', 'running'){spare}",
            [now(), *alive],
        ).fetchall()
    return int(found[0][0]) if found else 0
