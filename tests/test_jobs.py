"""Background jobs (core/jobs.py): run on their own cursor, report progress and result, one at a time per kind,
refuse users without the right, and are marked interrupted when a new process finds them still running."""

import threading
from pathlib import Path

import pytest

from core.db import open_database
from core.db.dialect import dialect
from core.errors import PermissionDenied
from core.jobs import get_job, latest_job, mark_interrupted, start_job, wait_for_job
from core.workspace import add_owner


def test_a_job_reports_progress_then_its_result(fresh_db):
    release = threading.Event()

    def work(con, progress):
        progress(0.5, "Half way")
        release.wait(5)
        return {"contacts": int(con.execute("SELECT count(*) FROM contacts").fetchone()[0])}

    job = start_job(fresh_db, "count", "admin", "duplicates.find", work)
    assert job.state == "running" and job.actor == "admin"
    for _ in range(100):
        seen = get_job(fresh_db, job.job_id)
        if seen.message == "Half way":
            break
        threading.Event().wait(0.02)
    assert seen.progress == 0.5 and seen.active
    release.set()
    wait_for_job("count", 5)
    done = latest_job(fresh_db, "count")
    assert (done.state, done.progress, done.result) == ("done", 1.0, {"contacts": 0})
    assert done.finished_at is not None


def test_one_job_at_a_time_per_kind(fresh_db):
    release = threading.Event()
    first = start_job(fresh_db, "slow", "admin", "duplicates.find", lambda con, progress: release.wait(5) and {})
    second = start_job(fresh_db, "slow", "admin", "duplicates.find", lambda con, progress: {"second": True})
    assert second.job_id == first.job_id
    release.set()
    wait_for_job("slow", 5)
    assert latest_job(fresh_db, "slow").state == "done"


def test_a_failing_job_is_failed_with_its_message(fresh_db):
    def work(con, progress):
        raise ValueError("no such thing")

    start_job(fresh_db, "bad", "admin", "duplicates.find", work)
    wait_for_job("bad", 5)
    failed = latest_job(fresh_db, "bad")
    assert failed.state == "failed" and "no such thing" in failed.message and failed.result is None


def test_the_actor_needs_the_jobs_action(fresh_db):
    add_owner(fresh_db, "maria", "Maria", role="agent", actor="admin")
    with pytest.raises(PermissionDenied):
        start_job(fresh_db, "dup", "maria", "duplicates.find", lambda con, progress: {})
    assert latest_job(fresh_db, "dup") is None


def test_a_job_left_running_by_a_dead_process_is_interrupted_at_the_next_start(tmp_path: Path):
    path = tmp_path / "jobs.duckdb"
    con = open_database(path)
    con.execute(
        "INSERT INTO jobs (kind, state, progress, message, actor, created_at, started_at) "
        "VALUES ('duplicates', 'running', 0.4, 'Scoring', 'admin', now(), now())"
    )
    con.close()  # the process "died" with the job running
    con = open_database(path)
    assert mark_interrupted(con) == 1
    job = latest_job(con, "duplicates")
    assert job.state == "interrupted" and not job.active and "restarted" in job.message
    assert job.finished_at is not None
    assert mark_interrupted(con) == 0
    con.close()


def test_duckdb_runs_each_query_on_its_own_thread_while_a_job_works(fresh_db):
    """DuckDB's shared worker threads would run the job's SQL at full priority: one thread while it works.
    PostgreSQL has no such setting (the server runs the queries): the job runs as it is."""
    setting = dialect(fresh_db).threads_setting
    if setting is not None:
        fresh_db.execute(f"SET {setting} = 2")

    def work(con, progress):
        if setting is None:
            return {"threads": None}
        return {"threads": int(con.execute(f"SELECT current_setting('{setting}')").fetchone()[0])}

    start_job(fresh_db, "threads", "admin", "duplicates.find", work)
    wait_for_job("threads", 5)
    assert latest_job(fresh_db, "threads").result == {"threads": 1 if setting else None}
    if setting is not None:  # as before, once it is done
        assert fresh_db.execute(f"SELECT current_setting('{setting}')").fetchone()[0] == 2
