"""Background jobs with several app processes on one PostgreSQL (core/jobs.py): a process that starts marks
interrupted only the jobs a dead process left, not those another live process runs, and does not start a second
job of a kind while another process runs one. A "process" here is a connection of its own with no job threads
(core.jobs._threads emptied), as a freshly started app process has."""

import contextlib
import threading
import time

import psycopg
import pytest

import core.jobs as jobs
from core.db import open_database
from core.db.connection import scalar
from core.db.dialect import dialect
from core.jobs import get_job, mark_interrupted, start_job, wait_for_job

pytestmark = pytest.mark.postgres


@pytest.fixture
def running_job(pg_db, pg_url):
    """A job running in "this" process, and a connection of another process that knows no job threads."""
    release = threading.Event()
    job = start_job(pg_db, "detect", "admin", "duplicates.find", lambda con, progress: release.wait(20) and {})
    other = open_database(pg_url)
    mine = dict(jobs._threads)
    jobs._threads.clear()
    yield job, other, release
    jobs._threads.update(mine)
    release.set()
    wait_for_job("detect", 20)
    other.close()


def test_a_starting_process_leaves_another_live_process_job_running(running_job):
    job, other, release = running_job
    assert mark_interrupted(other) == 0
    assert get_job(other, job.job_id).state == "running"


def test_a_second_job_of_a_kind_is_not_started_while_another_process_runs_one(running_job):
    job, other, release = running_job
    again = start_job(other, "detect", "admin", "duplicates.find", lambda con, progress: {})
    assert again.job_id == job.job_id


def test_a_job_a_dead_process_left_running_is_interrupted(pg_db, pg_url):
    dying = psycopg.connect(pg_url, autocommit=True)  # the session of a process running a job
    job_id = dying.execute(
        "INSERT INTO jobs (kind, state, message, actor, created_at, started_at) "
        "VALUES ('detect', 'running', 'Working', 'admin', LOCALTIMESTAMP, LOCALTIMESTAMP) RETURNING job_id"
    ).fetchall()[0][0]
    dying.execute("SELECT pg_advisory_lock(%s, %s)", [jobs.JOB_LOCK, job_id])
    assert mark_interrupted(pg_db) == 0  # its process is alive
    dying.close()  # the process dies: its session ends and lets the lock go
    # The server ends the session a moment after its client goes (longer on a busy machine): a process that starts
    # later finds the lock gone, so wait for that rather than race it.
    held = "SELECT " + dialect(pg_db).session_lock_held(str(jobs.JOB_LOCK), "?")
    deadline = time.monotonic() + 10
    while scalar(pg_db, held, [job_id]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark_interrupted(pg_db) == 1
    assert get_job(pg_db, job_id).state == "interrupted"


def test_two_processes_starting_a_kind_at_once_run_one_job(pg_db, pg_url, monkeypatch):
    # Each thread stands for a process: its own connection, and no lock shared in Python (core.jobs._lock is
    # per process), so only the database can make the two starts take turns.
    monkeypatch.setattr(jobs, "_lock", contextlib.nullcontext())
    release = threading.Event()
    kinds = [f"export-{n}" for n in range(20)]
    started: dict[str, list[int]] = {kind: [] for kind in kinds}
    connections = [open_database(pg_url) for _ in range(2)]
    barrier = threading.Barrier(2)

    def process(con) -> None:
        for kind in kinds:
            barrier.wait(20)
            job = start_job(con, kind, "admin", "duplicates.find", lambda c, progress: release.wait(20) and {})
            started[kind].append(job.job_id)

    threads = [threading.Thread(target=process, args=(con,)) for con in connections]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        release.set()
        for kind in kinds:
            wait_for_job(kind, 20)
        for con in connections:
            con.close()
    for kind in kinds:
        assert len(set(started[kind])) == 1, (kind, started[kind])
        assert scalar(pg_db, "SELECT count(*) FROM jobs WHERE kind = ?", [kind]) == 1
