"""The dashboard's snapshots kept in the database (core/dashboard/snapshots.py, migration 048): what one session
stores another reads back equal to the figures computed afresh, a newer one is never replaced by an older one, a
snapshot of another DuckDB process is behind, and one refresher at a time holds a figure's claim.
tests/postgres/rerun/test_dashboard_snapshots.py runs this module on PostgreSQL."""

import threading
import time
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from core import dashboard
from core.dashboard import snapshots
from core.dashboard.snapshots import STALE, Snapshot
from core.db.dialect import dialect

AT = datetime(2026, 11, 30, 14, 0)


def _figures(con) -> dict:
    kpis, completeness = dashboard.kpis_and_completeness(con, today=AT.date())
    span = dashboard.created_range(con)
    assert span is not None
    return {
        "kpis": kpis,
        "range": span,
        "chart": (*span, dashboard.contacts_over_time(con, span[0], span[1], "week", "source")),
        "split": dashboard.breakdowns(con),
        "completeness": completeness,
        "tags": dashboard.top_tags(con),
        "duplicates": dashboard.duplicate_rate(con),
        "activity": dashboard.recent_activity(con, today=AT.date()),
        "plain": [1, 2.5, "x", None, True],
    }


def _equal(a: object, b: object) -> bool:
    if isinstance(a, pl.DataFrame):
        return isinstance(b, pl.DataFrame) and a.equals(b) and a.schema == b.schema
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _people(con, add_contact) -> None:
    add_contact(con, first_name="Ada", email="ada@example.org", tags=["vip"])
    add_contact(con, first_name="Grace", phone="+44 20 7946 0958", lead_stage="Qualified")
    add_contact(con, first_name="Alan", email="alan@example.org", tags=["vip", "press"])


def test_a_stored_snapshot_reads_back_equal_to_the_figures_computed_afresh(fresh_db, add_contact):
    _people(fresh_db, add_contact)
    figures = _figures(fresh_db)
    key = snapshots.figure_key("figures")
    snapshots.store(fresh_db, key, Snapshot(7, figures, AT, 12.5))
    other = fresh_db.cursor()  # another session (PostgreSQL), as another app process would read it
    try:
        found = snapshots.load(other, key)
    finally:
        other.close()
    assert found is not None
    assert (found.stamp, found.computed_at, found.seconds) == (7, AT, 12.5)
    assert _equal(found.value, _figures(fresh_db))
    assert found.value["kpis"].total == 3


def test_figure_keys_hold_the_arguments():
    week = snapshots.figure_key("over_time", date(2026, 1, 1), date(2026, 6, 1), "week", "source")
    assert week == snapshots.figure_key("over_time", date(2026, 1, 1), date(2026, 6, 1), "week", "source")
    assert week != snapshots.figure_key("over_time", date(2026, 1, 1), date(2026, 6, 1), "month", "source")
    assert week != snapshots.figure_key("figures")


def test_a_newer_snapshot_is_never_replaced_by_an_older_one(fresh_db):
    key = snapshots.figure_key("figures")
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0))
    snapshots.store(fresh_db, key, Snapshot(4, {"n": 4}, AT, 3.0))  # a slower refresher, from before a write
    found = snapshots.load(fresh_db, key)
    assert found is not None and found.value == {"n": 5}
    snapshots.store(fresh_db, key, Snapshot(9, {"n": 9}, AT + timedelta(minutes=1), 4.0))
    found = snapshots.load(fresh_db, key)
    assert found is not None and (found.stamp, found.value) == (9, {"n": 9})
    assert snapshots.load(fresh_db, key, newer_than=9) is None  # current: its value is not read again
    assert snapshots.load(fresh_db, key, newer_than=8) is not None


def test_another_processes_snapshot_is_behind_on_duckdb_and_current_on_postgres(fresh_db, monkeypatch):
    key = snapshots.figure_key("figures")
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0))
    monkeypatch.setattr(snapshots, "_PROCESS", "a later process")
    found = snapshots.load(fresh_db, key)
    assert found is not None and found.value == {"n": 5}
    # DuckDB's stamp is a counter of the process that stored it; PostgreSQL's a sequence all processes share.
    assert found.stamp == (STALE if dialect(fresh_db).one_writer_process else 5)
    # DuckDB: this process's figures replace an earlier process's, however small their stamp; PostgreSQL: not older.
    snapshots.store(fresh_db, key, Snapshot(1, {"n": 1}, AT, 3.0))
    found = snapshots.load(fresh_db, key)
    kept = (1, {"n": 1}) if dialect(fresh_db).one_writer_process else (5, {"n": 5})
    assert found is not None and (found.stamp, found.value) == kept


def test_one_refresher_at_a_time_holds_a_figures_claim(fresh_db):
    key = snapshots.figure_key("figures")
    first = snapshots.claim(fresh_db, key, 3.0, AT)  # nothing stored: a placeholder row holds the claim
    assert first is not None
    assert snapshots.load(fresh_db, key) is None  # a placeholder is no figures
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(seconds=30))  # held: the others wait
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0), first)
    assert snapshots.load(fresh_db, key).value == {"n": 5}
    slow = snapshots.claim(fresh_db, key, 3.0, AT)
    assert slow is not None
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(seconds=30))  # held
    late = snapshots.claim(fresh_db, key, 3.0, AT + timedelta(minutes=2))  # lapsed: its refresher died, or is slow
    assert late is not None
    snapshots.store(fresh_db, key, Snapshot(6, {"n": 6}, AT, 3.0), slow)  # the slow one ends only its own claim
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(minutes=2, seconds=30))  # the live one stays
    snapshots.store(fresh_db, key, Snapshot(7, {"n": 7}, AT, 3.0), late)  # storing ends the claim
    failed = snapshots.claim(fresh_db, key, 3.0, AT)
    assert failed is not None
    snapshots.release(fresh_db, failed)  # so does a failed refresh
    assert snapshots.claim(fresh_db, key, 100.0, AT)
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(minutes=5))  # 4 x 100 s: still held
    assert snapshots.load(fresh_db, key).value == {"n": 7}


def test_a_released_first_claim_leaves_no_placeholder(fresh_db):
    key = snapshots.figure_key("figures")
    lease = snapshots.claim(fresh_db, key, 0.0, AT)
    assert lease is not None
    snapshots.release(fresh_db, lease)
    assert fresh_db.execute("SELECT count(*) FROM dashboard_snapshots").fetchall() == [(0,)]
    assert snapshots.claim(fresh_db, key, 0.0, AT) is not None  # free again


def test_a_claim_is_renewed_while_its_computation_runs(fresh_db):
    key = snapshots.figure_key("figures")
    lease = snapshots.claim(fresh_db, key, 0.0, datetime.now() - snapshots.MIN_LEASE)  # running out now
    assert lease is not None
    lease.length = timedelta(seconds=0.3)  # renewed every 0.1 s by 0.3 s
    first = lease.until
    with snapshots.renewed(fresh_db, lease):
        time.sleep(0.5)
    assert lease.until > first
    stored = fresh_db.execute("SELECT refreshing_until FROM dashboard_snapshots").fetchall()
    assert stored == [(lease.until,)]  # the holder's token is the stored lease: it still ends it
    snapshots.release(fresh_db, lease)
    assert fresh_db.execute("SELECT count(*) FROM dashboard_snapshots").fetchall() == [(0,)]


@pytest.mark.parametrize("seconds, stored", [(0.1, False), (5.0, True)])
def test_a_first_computation_is_stored_when_slow(fresh_db, seconds, stored):
    key = snapshots.figure_key("figures")
    shot = snapshots.computed_once(fresh_db, key, lambda: Snapshot(3, {"n": 3}, AT, seconds), keep_from=2.0)
    assert shot.value == {"n": 3}
    found = snapshots.load(fresh_db, key)
    assert (found is not None) == stored
    assert fresh_db.execute("SELECT count(*) FROM dashboard_snapshots WHERE seconds < 0").fetchall() == [(0,)]


def test_a_failed_first_computation_ends_its_claim(fresh_db):
    key = snapshots.figure_key("figures")

    def fail() -> Snapshot:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        snapshots.computed_once(fresh_db, key, fail, keep_from=2.0)
    assert snapshots.claim(fresh_db, key, 0.0) is not None


def test_sessions_claiming_at_once_get_one_claim(fresh_db):
    key = snapshots.figure_key("figures")
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0))
    sessions = [fresh_db.cursor() for _ in range(6)]
    start = threading.Barrier(len(sessions))
    won: list[bool] = []

    def claim(session) -> None:
        start.wait()
        won.append(snapshots.claim(session, key, 3.0, AT) is not None)

    threads = [threading.Thread(target=claim, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        session.close()
    assert won.count(True) == 1


def test_snapshots_nobody_computed_for_a_month_are_let_go(fresh_db):
    old = snapshots.figure_key("over_time", date(2025, 1, 1), date(2025, 6, 1), "week", "source")
    recent = snapshots.figure_key("over_time", date(2026, 1, 1), date(2026, 6, 1), "week", "source")
    snapshots.store(fresh_db, old, Snapshot(1, {"n": 1}, AT - timedelta(days=40), 3.0))
    snapshots.store(fresh_db, recent, Snapshot(1, {"n": 1}, AT - timedelta(days=10), 3.0))
    snapshots.store(fresh_db, snapshots.figure_key("figures"), Snapshot(2, {"n": 2}, AT, 3.0))
    assert snapshots.load(fresh_db, old) is None
    assert snapshots.load(fresh_db, recent) is not None
