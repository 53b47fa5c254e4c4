"""Arrow extracts (core.db.extract): PostgreSQL's rows read into an in-process DuckDB, in one snapshot, and
results handed back; on DuckDB the store's own connection, untouched."""

from datetime import date

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import frame, open_database, rows, scalar, transaction
from core.db.extract import analytical, analytical_in_transaction, arrow_frame, arrow_table, computed
from core.duplicates.source import detection_store

pytestmark = pytest.mark.postgres


def _people(con) -> None:
    bootstrap_admin(con)
    create_contact(con, ContactInput(first_name="Ada", email="ada@example.com", tags=["vip", "b"]), "admin")
    create_contact(con, ContactInput(first_name="Zoë", phone="+14155550100"), "admin")
    con.execute("UPDATE contacts SET birthday = ? WHERE first_name = 'Zoë'", [date(1990, 2, 3)])


def test_an_extract_reads_what_the_store_holds_with_its_types(pg_db):
    _people(pg_db)
    sql = "SELECT first_name, email, tags, birthday, name_generated FROM contacts ORDER BY first_name"
    duck = open_database()
    _people(duck)
    assert arrow_table(pg_db, sql).to_pylist() == arrow_table(duck, sql).to_pylist()
    assert arrow_table(pg_db, sql).to_pylist()[1]["birthday"] == date(1990, 2, 3)


def test_analytical_is_the_duckdb_store_itself():
    duck = open_database()
    with analytical(duck, {"contacts": "SELECT 1"}) as work, detection_store(duck) as detection:
        assert work is duck and detection is duck


def test_analytical_work_runs_in_duckdb_over_one_snapshot(pg_db):
    _people(pg_db)
    with analytical(
        pg_db, {"people": "SELECT first_name FROM contacts", "n": "SELECT count(*) AS n FROM contacts"}
    ) as work:
        # DuckDB's own functions run on the extract.
        assert rows(work, "SELECT list_sort(list(first_name)) FROM people") == [(["Ada", "Zoë"],)]
        assert rows(work, "SELECT n FROM n") == [(2,)]
        # Created after the extract: not in it.
        create_contact(pg_db, ContactInput(first_name="Late", phone="+14155550101"), "admin")
        assert scalar(work, "SELECT count(*) FROM people") == 2


def test_computed_rows_reach_the_store_inside_its_transaction(pg_db):
    _people(pg_db)
    with transaction(pg_db):
        pg_db.execute("UPDATE contacts SET job_title = 'seen' WHERE first_name = 'Ada'")  # this transaction's own
        with (
            analytical_in_transaction(pg_db, {"people": "SELECT first_name, job_title FROM contacts"}) as work,
            computed(work=work, con=pg_db, sql="SELECT first_name || '!' AS shout, job_title FROM people") as shouts,
        ):
            # Read by the same name on both sides.
            assert sorted(rows(pg_db, f"SELECT shout, job_title FROM {shouts}")) == [("Ada!", "seen"), ("Zoë!", None)]
            assert scalar(work, f"SELECT count(*) FROM {shouts}") == 2
    assert frame(pg_db, "SELECT count(*) AS n FROM contacts")["n"].item() == 2


def test_arrow_frame_reads_what_frame_reads_with_the_same_types(pg_db):
    _people(pg_db)
    create_contact(pg_db, ContactInput(first_name="O'Hara; DROP", email="o@example.com"), "admin")
    sql = """SELECT first_name, email, tags, birthday, created_on, version, to_json(first_name) AS j
             FROM contacts WHERE first_name IN (SELECT unnest($names)) AND created_on > $since ORDER BY first_name"""
    params = {"names": ["Ada", "O'Hara; DROP", "Nobody"], "since": date(2000, 1, 1)}
    by_arrow, by_rows = arrow_frame(pg_db, sql, params), frame(pg_db, sql, params)
    assert by_arrow.schema == by_rows.schema
    assert by_arrow.to_dicts() == by_rows.to_dicts()
    assert by_arrow["first_name"].to_list() == ["Ada", "O'Hara; DROP"]  # a quote in a value stays a value
    # An empty list (its type unknown to PostgreSQL) is read too.
    assert arrow_frame(pg_db, sql, params | {"names": []}).height == 0


def test_arrow_frame_on_duckdb_is_frame():
    duck = open_database()
    _people(duck)
    sql = "SELECT first_name, tags FROM contacts WHERE first_name = ?"
    assert arrow_frame(duck, sql, ["Ada"]).to_dicts() == frame(duck, sql, ["Ada"]).to_dicts()


def test_the_extracts_memory_and_spill_folder_can_be_set(pg_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CONTACTS_ANALYTICAL_MEMORY", "300MB")
    monkeypatch.setenv("CONTACTS_SPILL_DIR", str(tmp_path / "spill"))
    monkeypatch.setenv("CONTACTS_SPILL_LIMIT", "1GB")
    with analytical(pg_db, {"n": "SELECT 1 AS n"}) as work:
        settings = dict(
            rows(
                work,
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('memory_limit', 'temp_directory', 'max_temp_directory_size')",
            )
        )
        assert settings["temp_directory"].startswith(str(tmp_path / "spill"))
        assert settings["memory_limit"] == "286.1 MiB"  # 300 MB
        assert settings["max_temp_directory_size"] == "953.6 MiB"  # 1 GB
    assert list((tmp_path / "spill").iterdir()) == []  # the run's own folder is gone afterwards
