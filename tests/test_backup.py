"""Backups (issue 14, point 7): a consistent snapshot while ingests write, restored only after checks."""

import threading
import time
from pathlib import Path

import pytest

from core.channels.ingest import ingest_lines
from core.db.backup import BACKUP_FILE, backup, check_backup, restore
from core.errors import ContactsError
from tests.faults.invariants import check
from tests.faults.workspace import open_workspace, seed, webchat


def test_a_backup_taken_during_ingests_restores_to_a_sound_database(tmp_path: Path):
    con = open_workspace(tmp_path / "live.duckdb")
    seed(con)
    stop, runs = threading.Event(), [0]

    def keep_ingesting() -> None:
        cursor = con.cursor()
        while not stop.is_set():
            # Each run: 50 new visitors, each with one conversation and a 'created' entry.
            base = runs[0] * 50
            ingest_lines(cursor, [webchat(f"v{base + i}", "hi") for i in range(50)], "channels")
            runs[0] += 1
        cursor.close()

    writer = threading.Thread(target=keep_ingesting)
    writer.start()
    try:
        while runs[0] < 2:
            time.sleep(0.01)
        info = backup(con, tmp_path / "backup")
    finally:
        stop.set()
        writer.join(60)
    restored = restore(tmp_path / "backup", tmp_path / "restored.duckdb")
    assert restored == info and check(tmp_path / "restored.duckdb") == []
    back = open_workspace(tmp_path / "restored.duckdb")
    visitors = back.execute("SELECT count(*) FROM contacts WHERE contact_id LIKE 'v%'").fetchall()[0][0]
    runs_kept = back.execute("SELECT count(*) FROM ingest_runs WHERE events = 50").fetchall()[0][0]
    back.close()
    con.close()
    assert visitors == 50 * runs_kept and runs_kept >= 2  # whole runs only: a snapshot, not a torn copy


def test_restore_refuses_an_existing_database_unless_replacing(tmp_path: Path):
    con = open_workspace(tmp_path / "a.duckdb")
    seed(con, history=False)
    backup(con, tmp_path / "bk")
    con.close()
    with pytest.raises(ContactsError, match="--replace"):
        restore(tmp_path / "bk", tmp_path / "a.duckdb")
    assert restore(tmp_path / "bk", tmp_path / "a.duckdb", replace=True).contacts == 2002


def test_a_damaged_backup_is_refused(tmp_path: Path):
    con = open_workspace(tmp_path / "a.duckdb")
    backup(con, tmp_path / "bk")
    con.close()
    (tmp_path / "bk" / BACKUP_FILE).write_bytes(b"not a database" * 100)
    with pytest.raises(ContactsError, match="does not open|not a contacts database"):
        check_backup(tmp_path / "bk")
    assert not (tmp_path / "b.duckdb").exists()


def test_a_backup_goes_into_a_new_folder(tmp_path: Path):
    con = open_workspace(tmp_path / "a.duckdb")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ContactsError, match="not empty"):
        backup(con, tmp_path / "full")
    con.close()
