"""Migration 014: custom values clustered by field; an older database is carried over with every value, its key
and its index, and custom-field filters select what they did."""

import duckdb
import pytest

from core.db import apply_migrations, frame, migration_files
from core.views.filters import compile_filter, filter_fields, parse_filter


def _database_at(version: int) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the migrations up to `version` only, as an older release left it."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    for number, name, sql in migration_files():
        if number <= version:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_localtimestamp())", [number, name])
    return con


FILTER = parse_filter(
    {
        "conditions": [
            {"field": "custom.plan", "op": "any_of", "value": ["Pro"]},
            {"field": "custom.score", "op": "greater", "value": 100},
            {"field": "custom.vip", "op": "is_false"},
        ]
    }
)


def _matching(con: duckdb.DuckDBPyConnection) -> set[str]:
    where, params = compile_filter(FILTER, filter_fields(con))
    return set(frame(con, f"SELECT contact_id FROM contacts c WHERE {where}", params)["contact_id"])


def test_migration_014_keeps_every_custom_value_clustered_by_field():
    con = _database_at(13)
    con.execute(
        "INSERT INTO custom_fields (key, label, type, options, position) VALUES "
        "('plan', 'Plan', 'dropdown', ['Free', 'Pro'], 1), ('score', 'Score', 'number', [], 2), "
        "('vip', 'VIP', 'checkbox', [], 3)"
    )
    con.execute(
        "INSERT INTO contacts (contact_id, email) SELECT 'k' || i, 'p' || i || '@example.com' FROM range(300) t(i)"
    )
    # Written contact by contact, as the older release did.
    con.execute(
        "INSERT INTO custom_values SELECT contact_id, field_key, value FROM ("
        "SELECT 'k' || i AS contact_id, 'plan' AS field_key, CASE WHEN i % 2 = 0 THEN 'Pro' ELSE 'Free' END AS value "
        "FROM range(300) t(i) UNION ALL SELECT 'k' || i, 'score', (i * 1.5)::VARCHAR FROM range(0, 300, 3) t(i) "
        "UNION ALL SELECT 'k' || i, 'vip', 'true' FROM range(0, 300, 5) t(i)) ORDER BY contact_id, field_key"
    )
    values_before = sorted(con.execute("SELECT * FROM custom_values").fetchall())
    matching_before = _matching(con)
    assert matching_before  # the filter selects some and not all
    assert len(matching_before) < 300

    assert "014_custom_values_by_field.sql" in apply_migrations(con)
    assert sorted(con.execute("SELECT * FROM custom_values").fetchall()) == values_before
    stored_order = [key for (key,) in con.execute("SELECT field_key FROM custom_values ORDER BY rowid").fetchall()]
    assert stored_order == sorted(stored_order)  # clustered by field
    indexes = con.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'custom_values'").fetchall()
    assert ("custom_values_contact",) in indexes
    with pytest.raises(duckdb.ConstraintException):  # the key is kept
        con.execute("INSERT INTO custom_values VALUES ('k0', 'plan', 'Pro')")
    assert _matching(con) == matching_before
    assert apply_migrations(con) == []  # applied once
