"""Migrations give the same schema on DuckDB and PostgreSQL: tables, columns (normalised types, NOT NULL),
primary keys and unique constraints. A new migration that only one store runs the same way fails here."""

import duckdb
import pytest

from core.db import open_database, rows
from core.db.connection import migration_files

pytestmark = pytest.mark.postgres

# Each store's type name -> one name for both.
DUCKDB_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "JSON": "json",
    "VARCHAR[]": "text[]",
    "UHUGEINT": "int128",
}
POSTGRES_TYPES = {
    "varchar": "text",
    "text": "text",
    "int4": "int32",
    "int8": "int64",
    "float8": "float64",
    "bool": "bool",
    "date": "date",
    "timestamp": "timestamp",
    "json": "json",
    "_varchar": "text[]",
    "_text": "text[]",
    "numeric": "int128",  # UHUGEINT is NUMERIC(39, 0) on PostgreSQL
}

Schema = dict[str, dict[str, object]]


def duckdb_schema(con: duckdb.DuckDBPyConnection) -> Schema:
    schema: Schema = {}
    for table, column, kind, nullable in rows(
        con,
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position",
    ):
        columns = schema.setdefault(table, {"columns": [], "keys": set()})["columns"]
        columns.append((column, DUCKDB_TYPES.get(kind, kind), nullable == "YES"))  # type: ignore[attr-defined]
    for table, kind, names in rows(
        con,
        "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = 'main' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
    ):
        schema[table]["keys"].add((kind, tuple(names)))  # type: ignore[attr-defined]
    return schema


def postgres_schema(con) -> Schema:
    schema: Schema = {}
    for table, column, kind, nullable in rows(
        con,
        "SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name, c.ordinal_position",
    ):
        columns = schema.setdefault(table, {"columns": [], "keys": set()})["columns"]
        columns.append((column, POSTGRES_TYPES.get(kind, kind), nullable == "YES"))  # type: ignore[attr-defined]
    for table, kind, names in rows(
        con,
        "SELECT tc.table_name, tc.constraint_type, array_agg(k.column_name::text ORDER BY k.ordinal_position) "
        "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k "
        "USING (constraint_schema, constraint_name, table_name) "
        "WHERE tc.table_schema = current_schema() AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "GROUP BY tc.table_name, tc.constraint_type, tc.constraint_name",
    ):
        schema[table]["keys"].add((kind, tuple(names)))  # type: ignore[attr-defined]
    return schema


def test_both_stores_get_the_same_schema(pg_db):
    duck = open_database()
    try:
        expected = duckdb_schema(duck)
    finally:
        duck.close()
    found = postgres_schema(pg_db)
    assert sorted(found) == sorted(expected)
    for table in expected:
        assert found[table] == expected[table], table


def test_both_stores_record_the_same_migrations(pg_db):
    recorded = rows(pg_db, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert recorded == [(version, name) for version, name, _ in migration_files("postgres")]
    assert [name for _, name, _ in migration_files()] == [name for _, name, _ in migration_files("postgres")]
