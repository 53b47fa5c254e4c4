"""A batch larger than a table writes its rows with the table's indexes built after them (core.db.bulk; PostgreSQL
only, DuckDB keeps its indexes): the contacts, search index and vocabulary an import leaves are those a rebuild
gives, and the indexes come back as they were. Run on PostgreSQL too (tests/postgres/rerun)."""

import pytest

from core.db import bulk as bulk_module
from core.db import rows, scratch, transaction
from core.db.bulk import indexes_built_after, rebuilds_indexes
from core.db.dialect import dialect
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from tests.test_search_index import rebuilt_postings, stored_postings
from tests.test_vocabulary import live_holders, scanned_holders

TABLES = ("contacts", "search_terms", "search_postings", "vocabulary_holders", "vocabulary_words")


def _indexes(con) -> dict[str, list[tuple]]:
    """Each table's indexes that back no constraint, as (name, definition); empty where the store keeps its own."""
    listed = {table: dialect(con).secondary_indexes_sql(table) for table in TABLES}
    return {table: rows(con, sql) if sql else [] for table, sql in listed.items()}


def _import(con, csv: str) -> None:
    table = read_table("people.csv", csv.encode())
    commit_import(con, plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers))), "admin")


PEOPLE = "first_name,last_name,email,phone\n" + "".join(
    f"Name{i % 7},Family{i % 5},person{i}@example{i % 3}.com,+1 415 555 {i:04d}\n" for i in range(60)
)


@pytest.fixture
def any_batch_rebuilds(monkeypatch):
    """Every batch counts as large enough (the threshold is 50,000 rows)."""
    monkeypatch.setattr(bulk_module, "MIN_ROWS", 0)


def test_an_import_larger_than_the_index_leaves_what_a_rebuild_gives(
    fresh_db, add_contact, any_batch_rebuilds, monkeypatch
):
    before = _indexes(fresh_db)
    rebuilds = dialect(fresh_db).secondary_indexes_sql("search_postings") is not None
    assert all(before.values()) == rebuilds  # PostgreSQL lists its indexes; DuckDB none
    add_contact(fresh_db, "ann", first_name="Ann", last_name="Lee", email="ann@example.com")
    locked = []
    take_lock = bulk_module._locked_without_waiting

    def noted(con, table: str) -> bool:
        locked.append(table)
        return take_lock(con, table)

    monkeypatch.setattr(bulk_module, "_locked_without_waiting", noted)
    _import(fresh_db, PEOPLE)
    assert sorted(locked) == (sorted(TABLES) if rebuilds else [])  # each table's indexes were dropped and built
    assert rows(fresh_db, "SELECT count(*) FROM contacts") == [(61,)]
    assert stored_postings(fresh_db) == rebuilt_postings(fresh_db)
    assert live_holders(fresh_db) == scanned_holders(fresh_db)
    assert _indexes(fresh_db) == before  # built again as they were


def test_a_batch_smaller_than_the_table_keeps_the_indexes(fresh_db, any_batch_rebuilds):
    _import(fresh_db, PEOPLE)
    held = rows(fresh_db, "SELECT count(*) FROM search_postings")[0][0]
    numbers = "SELECT i FROM {} AS r(i)"
    store = dialect(fresh_db)
    with (
        scratch(fresh_db, numbers.format(store.integer_range("0", str(held - 1)))) as fewer,
        scratch(fresh_db, numbers.format(store.integer_range("0", str(held + 1)))) as more,
    ):
        assert not rebuilds_indexes(fresh_db, "search_postings", fewer)  # the table holds more
        expected = dialect(fresh_db).secondary_indexes_sql("search_postings") is not None
        assert rebuilds_indexes(fresh_db, "search_postings", more) == expected
    _import(fresh_db, "first_name,last_name,email\nZed,Quill,zed@quill.example\n")
    assert stored_postings(fresh_db) == rebuilt_postings(fresh_db)
    assert live_holders(fresh_db) == scanned_holders(fresh_db)


def test_a_small_batch_never_rebuilds(fresh_db):
    with scratch(fresh_db, "SELECT 1 AS one") as batch:
        assert not rebuilds_indexes(fresh_db, "search_postings", batch)  # under MIN_ROWS, into an empty table


def test_indexes_dropped_by_a_failed_transaction_are_back(fresh_db):
    before = _indexes(fresh_db)
    with pytest.raises(RuntimeError), transaction(fresh_db):
        with indexes_built_after(fresh_db, "search_postings", True):
            assert _indexes(fresh_db)["search_postings"] == []
            raise RuntimeError("the import failed")
    assert _indexes(fresh_db) == before


def test_a_table_another_session_reads_keeps_its_indexes(fresh_db, any_batch_rebuilds, monkeypatch):
    """The lock is never waited for (a wait while holding the other tables' locks could deadlock with a reader): a
    table in use is written with its indexes kept, and the import goes through."""
    monkeypatch.setattr(bulk_module, "LOCK_TRIES_SECONDS", 0.2)
    before = _indexes(fresh_db)
    reader = fresh_db.cursor()
    try:
        with transaction(reader):
            assert rows(reader, "SELECT count(*) FROM search_postings") == [(0,)]
            _import(fresh_db, PEOPLE)
    finally:
        reader.close()
    assert stored_postings(fresh_db) == rebuilt_postings(fresh_db)
    assert live_holders(fresh_db) == scanned_holders(fresh_db)
    assert _indexes(fresh_db) == before
