"""`python -m core migrate-store --from FILE --to URL`: a DuckDB workspace moves into PostgreSQL whole."""

import json

import pytest

from core.cli import main
from core.contacts.records import add_note, get_contact
from core.db import open_database, rows, scalar
from core.db.migrate_store import migrate_store
from core.errors import ContactsError

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """A small demo workspace file (every kind of row: contacts, custom values, conversations, duplicates...)."""
    return tmp_path_factory.mktemp("demo") / "contacts.duckdb"


def _make_demo(path, monkeypatch) -> None:
    if not path.exists():
        assert main(["demo", "--contacts", "150", "--db", str(path)]) == 0


def _counts(con, tables):
    return {table: scalar(con, f'SELECT count(*) FROM "{table}"') for table in tables}


def test_every_table_is_copied_and_counted(demo_file, pg_url, capsys, monkeypatch):
    _make_demo(demo_file, monkeypatch)
    capsys.readouterr()
    assert main(["migrate-store", "--from", str(demo_file), "--to", pg_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["contacts"] == 150 or report["tables"]["contacts"] > 100

    duck = open_database(demo_file)
    pg = open_database(pg_url)
    try:
        assert _counts(pg, report["tables"]) == _counts(duck, report["tables"]) == report["tables"]
        assert sum(report["tables"].values()) > 1_000  # the demo's related records came along
        some_id = scalar(duck, "SELECT min(contact_id) FROM contacts")
        assert get_contact(pg, some_id) == get_contact(duck, some_id)  # custom values, tags, times alike
        assert rows(pg, "SELECT key, value FROM settings ORDER BY key") == rows(
            duck, "SELECT key, value FROM settings ORDER BY key"
        )
        # The sequences continue after the copied IDs: a new note gets a fresh ID.
        before = scalar(pg, "SELECT max(note_id) FROM notes") or 0
        add_note(pg, some_id, "after the move", "admin")
        assert scalar(pg, "SELECT max(note_id) FROM notes") > before
    finally:
        duck.close()
        pg.close()


def test_a_target_with_rows_is_refused_and_left_as_it_was(demo_file, pg_url, monkeypatch):
    _make_demo(demo_file, monkeypatch)
    migrate_store(demo_file, pg_url)
    pg = open_database(pg_url)
    try:
        contacts = scalar(pg, "SELECT count(*) FROM contacts")
        with pytest.raises(ContactsError, match="not empty"):
            migrate_store(demo_file, pg_url)
        assert scalar(pg, "SELECT count(*) FROM contacts") == contacts
    finally:
        pg.close()


def test_a_missing_file_or_a_non_postgres_target_is_refused(tmp_path, pg_url, capsys):
    assert main(["migrate-store", "--from", str(tmp_path / "none.duckdb"), "--to", pg_url]) == 1
    assert "no database" in capsys.readouterr().err
    (tmp_path / "a.duckdb").touch()
    with pytest.raises(ContactsError, match="PostgreSQL URL"):
        migrate_store(tmp_path / "a.duckdb", str(tmp_path / "b.duckdb"))
