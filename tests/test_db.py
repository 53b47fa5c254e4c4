"""Opening databases, migrations, the file lock, transactions and scratch relations."""

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import polars as pl
import pytest

import core.db.connection
from core.db import (
    apply_migrations,
    frame,
    migration_files,
    open_database,
    rows,
    scalar,
    scratch,
    scratch_ids,
    transaction,
)
from core.db.connection import is_database_error
from core.errors import ContactsError, DatabaseLockedError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_migrations_are_numbered_in_order():
    found = migration_files()
    versions = [version for version, _, _ in found]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert found[0][:2] == (1, "001_initial.sql")


def test_fresh_database_records_every_migration(fresh_db):
    recorded = rows(fresh_db, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert recorded == [(version, name) for version, name, _ in migration_files()]


def test_fresh_database_has_the_schema(fresh_db):
    tables = {name for (name,) in rows(fresh_db, "SELECT table_name FROM information_schema.tables")}
    expected = {
        "contacts",
        "custom_fields",
        "custom_values",
        "conversations",
        "tickets",
        "notes",
        "media",
        "activity",
        "deletion_log",
        "owners",
        "lead_stages",
        "settings",
        "user_preferences",
        "schema_migrations",
    }
    assert expected <= tables
    assert scalar(fresh_db, "SELECT value FROM settings WHERE key = 'default_country'") == "US"


def _with_extra(monkeypatch, *extra: tuple[str, str]) -> list[tuple[int, str]]:
    """Ship extra migrations after the real ones; returns every (version, name) now shipped."""
    shipped = migration_files()
    last = shipped[-1][0]
    added = [(last + offset, f"{last + offset:03d}_{name}.sql", sql) for offset, (name, sql) in enumerate(extra, 1)]
    monkeypatch.setattr(core.db.connection, "migration_files", lambda: shipped + added)
    return [(version, name) for version, name, _ in shipped + added]


def test_migrations_apply_in_version_order(monkeypatch):
    expected = _with_extra(
        monkeypatch,
        ("regions", "CREATE TABLE regions (name VARCHAR);"),
        ("region_rows", "INSERT INTO regions VALUES ('EMEA');"),  # needs the table of the one before
    )
    con = open_database()
    assert rows(con, "SELECT version, name FROM schema_migrations ORDER BY applied_at, version") == expected
    assert rows(con, "SELECT name FROM regions") == [("EMEA",)]


def test_reopening_a_file_database_applies_nothing_twice(tmp_path):
    path = tmp_path / "contacts.duckdb"
    con = open_database(path)
    con.execute("INSERT INTO lead_stages VALUES ('Partner', 99)")
    con.close()

    con = open_database(path)
    assert apply_migrations(con) == []
    assert scalar(con, "SELECT count(*) FROM schema_migrations") == len(migration_files())
    # The seed rows of 001 were not inserted a second time, and our own row survived.
    assert scalar(con, "SELECT count(*) FROM lead_stages WHERE name = 'Lead'") == 1
    assert scalar(con, "SELECT count(*) FROM lead_stages WHERE name = 'Partner'") == 1
    con.close()


def test_a_new_migration_is_applied_to_an_existing_file_once(tmp_path, monkeypatch):
    path = tmp_path / "contacts.duckdb"
    open_database(path).close()
    expected = _with_extra(monkeypatch, ("x", "CREATE TABLE x (id INTEGER);"))
    con = open_database(path)
    assert rows(con, "SELECT version, name FROM schema_migrations ORDER BY version") == expected
    assert apply_migrations(con) == []
    con.close()


def test_a_failing_migration_leaves_nothing_behind(monkeypatch):
    shipped = [(version, name) for version, name, _ in migration_files()]
    _with_extra(monkeypatch, ("broken", "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1);"))
    con = duckdb.connect(":memory:")
    with pytest.raises(duckdb.Error):
        apply_migrations(con)
    assert rows(con, "SELECT version, name FROM schema_migrations ORDER BY version") == shipped
    tables = {name for (name,) in rows(con, "SELECT table_name FROM information_schema.tables")}
    assert "half_done" not in tables


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from core.db import open_database
    con = open_database(sys.argv[1])
    print("ready", flush=True)
    time.sleep(30)
    """
)


def test_a_file_held_by_another_process_raises_a_clear_error(tmp_path):
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLockedError) as raised:
            open_database(path)
        with pytest.raises(DatabaseLockedError):
            open_database(path, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    message = str(raised.value)
    assert isinstance(raised.value, ContactsError)
    assert "\n" not in message
    assert str(path) in message
    assert "in use by another process" in message


def test_transaction_commits_on_success(fresh_db):
    with transaction(fresh_db):
        fresh_db.execute("INSERT INTO lead_stages VALUES ('Partner', 99)")
    assert scalar(fresh_db, "SELECT count(*) FROM lead_stages WHERE name = 'Partner'") == 1


def test_transaction_rolls_back_on_exception(fresh_db):
    with pytest.raises(ContactsError):
        with transaction(fresh_db):
            fresh_db.execute("INSERT INTO lead_stages VALUES ('Partner', 99)")
            fresh_db.execute("DELETE FROM settings")
            raise ContactsError("changed my mind")
    assert scalar(fresh_db, "SELECT count(*) FROM lead_stages WHERE name = 'Partner'") == 0
    assert scalar(fresh_db, "SELECT value FROM settings WHERE key = 'default_country'") == "US"
    # The connection is usable afterwards: no transaction left open.
    with transaction(fresh_db):
        fresh_db.execute("INSERT INTO lead_stages VALUES ('Partner', 99)")
    assert scalar(fresh_db, "SELECT count(*) FROM lead_stages WHERE name = 'Partner'") == 1


def test_transaction_rolls_back_on_a_failing_statement(fresh_db):
    stages = rows(fresh_db, "SELECT * FROM lead_stages ORDER BY position")
    # A duplicate key: DuckDB's ConstraintException, PostgreSQL's UniqueViolation.
    with pytest.raises(Exception, match="(?i)duplicate key|constraint") as failed:
        with transaction(fresh_db):
            fresh_db.execute("INSERT INTO lead_stages VALUES ('Partner', 99)")
            fresh_db.execute("INSERT INTO lead_stages VALUES ('Lead', 100)")
    assert is_database_error(failed.value)
    assert rows(fresh_db, "SELECT * FROM lead_stages ORDER BY position") == stages


def test_scalar_rows_and_frame(fresh_db):
    assert scalar(fresh_db, "SELECT name FROM lead_stages WHERE position = ?", [1]) == "Lead"
    assert scalar(fresh_db, "SELECT name FROM lead_stages WHERE position = $p", {"p": 99}) is None
    assert rows(fresh_db, "SELECT name FROM lead_stages WHERE position <= 2 ORDER BY position") == [
        ("Lead",),
        ("Contact",),
    ]
    stages = frame(fresh_db, "SELECT name, position FROM lead_stages ORDER BY position")
    assert isinstance(stages, pl.DataFrame)
    assert stages["name"].to_list() == ["Lead", "Contact", "Qualified", "Customer", "Churned"]


# --- Scratch relations ---


def scratch_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every scratch relation this connection sees: registered frames (views) and temporary tables. Another
    cursor's are not listed on either store (DuckDB: a temporary catalog per cursor; PostgreSQL: a session per
    cursor, and information_schema leaves out other sessions' temporary schemas)."""
    found = rows(con, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'scratch_%'")
    return {name for (name,) in found}


@pytest.mark.parametrize("table", [False, True])
def test_a_frame_is_readable_in_the_block_and_dropped_after_it(fresh_db, table):
    with scratch(fresh_db, pl.DataFrame({"n": [1, 2, 3]}), table=table) as numbers:
        assert scalar(fresh_db, f"SELECT sum(n) FROM {numbers}") == 6
        assert numbers.table is table and scratch_names(fresh_db) == {numbers.name}
    assert scratch_names(fresh_db) == set()


def test_a_query_is_copied_once_and_does_not_follow_the_tables_it_read(fresh_db):
    with scratch(fresh_db, "SELECT name FROM lead_stages WHERE position <= $p", {"p": 2}) as stages:
        fresh_db.execute("DELETE FROM lead_stages")
        assert rows(fresh_db, f"SELECT name FROM {stages} ORDER BY name") == [("Contact",), ("Lead",)]
        assert stages.table
    assert scratch_names(fresh_db) == set()
    with pytest.raises(ValueError, match="always copied"):
        with scratch(fresh_db, "SELECT 1", table=False):
            pass


def test_scratch_ids_drops_repeats_and_keeps_the_order(fresh_db):
    with scratch_ids(fresh_db, ["b", "a", "b", "c"]) as ids:
        assert rows(fresh_db, f"SELECT contact_id FROM {ids}") == [("b",), ("a",), ("c",)]
    with scratch_ids(fresh_db, [], table=True) as none:
        assert scalar(fresh_db, f"SELECT count(*) FROM {none}") == 0


@pytest.mark.parametrize("table", [False, True])
def test_a_failing_block_drops_its_relation_and_keeps_its_error(fresh_db, table):
    with pytest.raises(ContactsError, match="changed my mind"):
        with scratch(fresh_db, pl.DataFrame({"n": [1]}), table=table):
            raise ContactsError("changed my mind")
    assert scratch_names(fresh_db) == set()


@pytest.mark.parametrize("source", [pl.DataFrame({"n": ["x"]}), "SELECT 'x' AS n"])
def test_a_failed_statement_inside_a_transaction_is_the_error_raised_and_nothing_is_left(fresh_db, source):
    """The failed statement aborts the transaction, which refuses the drop; the rollback removes the relation."""
    # 'x' is no integer: DuckDB's ConversionException, PostgreSQL's InvalidTextRepresentation.
    with pytest.raises(Exception, match="(?i)convert|invalid input") as failed:
        with transaction(fresh_db), scratch(fresh_db, source) as bad:
            fresh_db.execute(f"SELECT n::INTEGER FROM {bad}")
    assert is_database_error(failed.value)
    assert scratch_names(fresh_db) == set()
    assert scalar(fresh_db, "SELECT 1") == 1  # no transaction left open


def test_names_are_unique_per_call_and_cursors_do_not_meet(fresh_db):
    cursors = [fresh_db.cursor() for _ in range(2)]
    names: list[list[str]] = [[], []]
    sums: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(index: int) -> None:
        con = cursors[index]
        start.wait()
        for n in range(20):
            with scratch(con, pl.DataFrame({"n": [index, n]}), table=n % 2 == 1) as numbers:
                names[index].append(numbers.name)
                sums[index].append(scalar(con, f"SELECT sum(n) FROM {numbers}"))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sums == [[n for n in range(20)], [1 + n for n in range(20)]]
    assert len(set(names[0]) | set(names[1])) == 40
    assert all(scratch_names(con) == set() for con in (fresh_db, *cursors))


def test_nested_blocks_on_one_connection_get_their_own_names(fresh_db):
    with scratch_ids(fresh_db, ["a"]) as outer, scratch_ids(fresh_db, ["b"]) as inner:
        assert outer.name != inner.name
        assert rows(fresh_db, f"SELECT * FROM {outer} UNION ALL SELECT * FROM {inner} ORDER BY 1") == [("a",), ("b",)]
    assert scratch_names(fresh_db) == set()
