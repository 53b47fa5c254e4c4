"""Migration 017's PostgreSQL twin carries an older workspace's custom values into a row per contact, as
tests/test_custom_values_layout.py checks for DuckDB's (that module builds older DuckDB databases itself)."""

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import held_values_sql, read_values, write_values
from core.db import apply_migrations, frame, migration_files, rows, transaction
from core.db.connection import is_database_error
from core.db.dialect import dialect
from core.db.postgres import open_postgres
from core.views.filters import compile_filter, filter_fields
from core.workspace import define_custom_field
from tests.test_custom_values_layout import EXPECTED, FILTER

pytestmark = pytest.mark.postgres


def _database_at(url: str, version: int):
    """The PostgreSQL database at `url` with its migrations (PostgreSQL spelling) up to `version` only."""
    con = open_postgres(url)
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    for number, name, sql in migration_files("postgres"):
        if number <= version:
            with transaction(con):
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, LOCALTIMESTAMP)", [number, name])
    return con


def _an_older_workspace(con) -> list[tuple[str, str, str]]:
    """tests/test_custom_values_layout.py's older workspace, in PostgreSQL's SQL: the same fields, contacts and
    values (one row per value), and the two orphans older bugs left."""
    con.execute(
        "INSERT INTO custom_fields (key, label, type, options, position) VALUES "
        "('plan', 'Plan', 'dropdown', ARRAY['Free', 'Pro'], 1), ('score', 'Score', 'number', ARRAY[]::text[], 2), "
        "('vip', 'VIP', 'checkbox', ARRAY[]::text[], 3), ('unused', 'Unused', 'text', ARRAY[]::text[], 4)"
    )
    con.execute(
        "INSERT INTO contacts (contact_id, email) "
        "SELECT 'k' || i, 'p' || i || '@example.com' FROM generate_series(0, 299) t(i)"
    )
    con.execute(
        "INSERT INTO custom_values SELECT contact_id, field_key, value FROM ("
        "SELECT 'k' || i AS contact_id, 'plan' AS field_key, CASE WHEN i % 2 = 0 THEN 'Pro' ELSE 'Free' END AS value "
        "FROM generate_series(0, 299) t(i) UNION ALL SELECT 'k' || i, 'score', (i * 1.5)::VARCHAR "
        "FROM generate_series(0, 299, 3) t(i) UNION ALL SELECT 'k' || i, 'vip', 'true' "
        "FROM generate_series(0, 299, 5) t(i)) v ORDER BY contact_id, field_key"
    )
    kept = sorted(con.execute("SELECT * FROM custom_values").fetchall())
    con.execute("INSERT INTO custom_values VALUES ('k1', 'gone', 'x'), ('nobody', 'plan', 'Pro')")
    return kept


def _matching(con) -> set[str]:
    where, params = compile_filter(FILTER, filter_fields(con), store=dialect(con))
    return set(frame(con, f"SELECT contact_id FROM contacts c WHERE {where}", params)["contact_id"])


@pytest.mark.parametrize("before", [13, 16])  # from the row per value as written, and as 014 clustered it
def test_migration_017_carries_every_value_into_a_row_per_contact(pg_url, before):
    con = _database_at(pg_url, before)
    values_before = _an_older_workspace(con)

    assert "017_custom_values_by_contact.sql" in apply_migrations(con)
    assert sorted(rows(con, held_values_sql(con))) == values_before  # the orphans are gone
    columns = [
        name
        for (name,) in rows(
            con,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'custom_values' AND table_schema = current_schema() ORDER BY ordinal_position",
        )
    ]
    assert columns[:2] == ["contact_id", "row_key"] and sorted(columns[2:]) == ["plan", "score", "unused", "vip"]
    assert read_values(con, ["k0", "k1", "k299"]) == {
        "k0": {"plan": "Pro", "score": "0.0", "vip": "true"},
        "k1": {"plan": "Free"},
        "k299": {"plan": "Free"},
    }
    assert rows(con, "SELECT count(DISTINCT row_key), count(row_key) FROM contacts") == [(300, 300)]
    assert rows(con, "SELECT count(*) FROM custom_values v JOIN contacts c USING (contact_id, row_key)") == [(300,)]
    with pytest.raises(Exception, match="(?i)duplicate key") as taken:  # one row per contact
        con.execute("INSERT INTO custom_values (contact_id, row_key) VALUES ('k0', 1)")
    assert is_database_error(taken.value)
    assert _matching(con) == EXPECTED
    assert apply_migrations(con) == []  # applied once

    # The carried-over database works as a new one: new contacts get new keys, new fields a column.
    con.execute("INSERT INTO contacts (contact_id, email) VALUES ('new', 'new@example.com')")
    assert rows(
        con,
        "SELECT row_key > (SELECT max(row_key) FROM contacts WHERE contact_id <> 'new') "
        "FROM contacts WHERE contact_id = 'new'",
    ) == [(True,)]
    bootstrap_admin(con)
    define_custom_field(con, "region", "Region", "text", actor="admin")
    write_values(con, "new", {"region": "North", "plan": "Pro"})
    assert read_values(con, ["new"]) == {"new": {"plan": "Pro", "region": "North"}}
    con.close()


def test_a_workspace_without_custom_fields_migrates_too(pg_url):
    con = _database_at(pg_url, 16)
    con.execute("INSERT INTO contacts (contact_id, email) VALUES ('a', 'a@example.com')")
    apply_migrations(con)
    columns = rows(
        con,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'custom_values' AND table_schema = current_schema() ORDER BY ordinal_position",
    )
    assert columns == [("contact_id",), ("row_key",)]
    assert rows(con, "SELECT count(*) FROM custom_values") == [(0,)]
    con.close()
