"""The dashboard's snapshots kept in the database (core/dashboard/snapshots.py, migration 048): what one session
stores another reads back equal to the figures computed afresh, a newer one is never replaced by an older one, a
snapshot of another DuckDB process is behind, and one refresher at a time holds a figure's claim.
tests/postgres/rerun/test_dashboard_snapshots.py runs this module on PostgreSQL."""

import threading
from datetime import date, datetime, timedelta

import polars as pl

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
    assert snapshots.claim(fresh_db, key, 3.0, AT)  # nothing stored: nobody to wait for
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0))
    assert snapshots.claim(fresh_db, key, 3.0, AT)
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(seconds=30))  # held
    assert snapshots.claim(fresh_db, key, 3.0, AT + timedelta(minutes=2))  # lapsed: its refresher died
    snapshots.store(fresh_db, key, Snapshot(6, {"n": 6}, AT, 3.0))  # storing ends the claim
    assert snapshots.claim(fresh_db, key, 3.0, AT)
    snapshots.release(fresh_db, key)  # so does a failed refresh
    assert snapshots.claim(fresh_db, key, 100.0, AT)
    assert not snapshots.claim(fresh_db, key, 3.0, AT + timedelta(minutes=5))  # 4 x 100 s: still held


def test_sessions_claiming_at_once_get_one_claim(fresh_db):
    key = snapshots.figure_key("figures")
    snapshots.store(fresh_db, key, Snapshot(5, {"n": 5}, AT, 3.0))
    sessions = [fresh_db.cursor() for _ in range(6)]
    start = threading.Barrier(len(sessions))
    won: list[bool] = []

    def claim(session) -> None:
        start.wait()
        won.append(snapshots.claim(session, key, 3.0, AT))

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
