"""How custom values are stored, and databases of older releases carried over with every value:
migration 014 (a row per value, clustered by field) and migration 017 (a row per contact, a column per field,
with the contact's integer key)."""

import duckdb
import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import held_values_sql, read_values, write_values
from core.db import apply_migrations, frame, migration_files, rows, transaction
from core.views.filters import compile_filter, filter_fields, parse_filter
from core.workspace import define_custom_field


def _database_at(version: int) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the migrations up to `version` only, as an older release left it."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    _migrate(con, version)
    return con


def _migrate(con: duckdb.DuckDBPyConnection, version: int) -> list[str]:
    """Apply the migrations not yet recorded, up to `version`, as apply_migrations does."""
    done = {number for (number,) in rows(con, "SELECT version FROM schema_migrations")}
    applied = []
    for number, name, sql in migration_files():
        if number <= version and number not in done:
            with transaction(con):
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_localtimestamp())", [number, name])
            applied.append(name)
    return applied


FILTER = parse_filter(
    {
        "conditions": [
            {"field": "custom.plan", "op": "any_of", "value": ["Pro"]},
            {"field": "custom.score", "op": "greater", "value": 100},
            {"field": "custom.vip", "op": "is_false"},
        ]
    }
)
# What FILTER selects among the contacts _an_older_workspace makes: plan Pro (even i), a score above 100
# (i a multiple of 3, i * 1.5 > 100) and not VIP (i not a multiple of 5).
EXPECTED = {f"k{i}" for i in range(300) if i % 2 == 0 and i % 3 == 0 and i * 1.5 > 100 and i % 5 != 0}


def _matching(con: duckdb.DuckDBPyConnection) -> set[str]:
    where, params = compile_filter(FILTER, filter_fields(con))
    return set(frame(con, f"SELECT contact_id FROM contacts c WHERE {where}", params)["contact_id"])


def _an_older_workspace(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Fields, 300 contacts and their values in the row-per-value layout; returns the values a contact can show."""
    con.execute(
        "INSERT INTO custom_fields (key, label, type, options, position) VALUES "
        "('plan', 'Plan', 'dropdown', ['Free', 'Pro'], 1), ('score', 'Score', 'number', [], 2), "
        "('vip', 'VIP', 'checkbox', [], 3), ('unused', 'Unused', 'text', [], 4)"
    )
    con.execute(
        "INSERT INTO contacts (contact_id, email) SELECT 'k' || i, 'p' || i || '@example.com' FROM range(300) t(i)"
    )
    # Written contact by contact, as the older releases did.
    con.execute(
        "INSERT INTO custom_values SELECT contact_id, field_key, value FROM ("
        "SELECT 'k' || i AS contact_id, 'plan' AS field_key, CASE WHEN i % 2 = 0 THEN 'Pro' ELSE 'Free' END AS value "
        "FROM range(300) t(i) UNION ALL SELECT 'k' || i, 'score', (i * 1.5)::VARCHAR FROM range(0, 300, 3) t(i) "
        "UNION ALL SELECT 'k' || i, 'vip', 'true' FROM range(0, 300, 5) t(i)) ORDER BY contact_id, field_key"
    )
    kept = sorted(con.execute("SELECT * FROM custom_values").fetchall())
    # Left behind by older bugs: a value of a field since deleted, and one of a contact since deleted.
    con.execute("INSERT INTO custom_values VALUES ('k1', 'gone', 'x'), ('nobody', 'plan', 'Pro')")
    return kept


def test_migration_014_keeps_every_custom_value_clustered_by_field():
    con = _database_at(13)
    values_before = _an_older_workspace(con)

    assert _migrate(con, 14) == ["014_custom_values_by_field.sql"]
    stored = con.execute("SELECT * FROM custom_values WHERE field_key <> 'gone' AND contact_id <> 'nobody'")
    assert sorted(stored.fetchall()) == values_before
    stored_order = [key for (key,) in con.execute("SELECT field_key FROM custom_values ORDER BY rowid").fetchall()]
    assert stored_order == sorted(stored_order)  # clustered by field
    indexes = con.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'custom_values'").fetchall()
    assert ("custom_values_contact",) in indexes
    with pytest.raises(duckdb.ConstraintException):  # the key is kept
        con.execute("INSERT INTO custom_values VALUES ('k0', 'plan', 'Pro')")


@pytest.mark.parametrize("before", [13, 16])  # from the row per value as written, and as 014 clustered it
def test_migration_017_carries_every_value_into_a_row_per_contact(before):
    con = _database_at(before)
    values_before = _an_older_workspace(con)

    assert "017_custom_values_by_contact.sql" in apply_migrations(con)
    assert sorted(rows(con, held_values_sql(con))) == values_before  # the orphans are gone
    columns = [
        name for (name,) in rows(con, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'custom_values'")
    ]
    assert columns[:2] == ["contact_id", "row_key"] and sorted(columns[2:]) == ["plan", "score", "unused", "vip"]
    assert read_values(con, ["k0", "k1", "k299"]) == {
        "k0": {"plan": "Pro", "score": "0.0", "vip": "true"},
        "k1": {"plan": "Free"},
        "k299": {"plan": "Free"},
    }
    # Every contact has its own integer key, and the values' rows carry it.
    assert rows(con, "SELECT count(DISTINCT row_key), count(row_key) FROM contacts") == [(300, 300)]
    assert rows(con, "SELECT count(*) FROM custom_values v JOIN contacts c USING (contact_id, row_key)") == [(300,)]
    with pytest.raises(duckdb.ConstraintException):  # one row per contact
        con.execute("INSERT INTO custom_values (contact_id, row_key) VALUES ('k0', 1)")
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


def test_a_workspace_without_custom_fields_migrates_too():
    con = _database_at(16)
    con.execute("INSERT INTO contacts (contact_id, email) VALUES ('a', 'a@example.com')")
    apply_migrations(con)
    columns = rows(con, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'custom_values'")
    assert columns == [("contact_id",), ("row_key",)]
    assert rows(con, "SELECT count(*) FROM custom_values") == [(0,)]
