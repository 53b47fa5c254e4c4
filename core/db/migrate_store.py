"""Moving a workspace from its DuckDB file to PostgreSQL (`python -m core migrate-store --from FILE --to URL`).

The target gets the schema from the same migrations as any new database, then every table's rows in one
transaction: COPY from the DuckDB file in batches, each sequence set where the file left it, and every table's
row count checked against the file's before the commit. A failure leaves the target with no rows (its schema
stays, empty, and a new run may use it).
"""

from pathlib import Path

import duckdb
from pydantic import BaseModel

from core.db.connection import is_postgres_url, open_database, transaction
from core.errors import ContactsError

BATCH_ROWS = 10_000
_NOT_COPIED = ("schema_migrations",)  # the target records its own migrations
# Tables the migrations fill with defaults: a new database has rows there, and the file's rows replace them.
_SEEDED = ("lead_stages", "settings")


class StoreCopy(BaseModel):
    """What a migration between stores copied: rows per table and the sequences' values."""

    source: str
    target: str
    tables: dict[str, int]
    sequences: dict[str, int]


def migrate_store(source: str | Path, target_url: str) -> StoreCopy:
    """Copy the workspace in the DuckDB file `source` into the empty PostgreSQL database at `target_url`."""
    if not Path(source).is_file():
        raise ContactsError(f"There is no database at {source}.")
    if not is_postgres_url(target_url):
        raise ContactsError("The target must be a PostgreSQL URL (postgresql://user@host/database).")
    duck = open_database(source)  # brought up to date first, as opening it in the app would
    try:
        pg = open_database(target_url)
        try:
            return _copy(duck, pg, str(source), target_url)
        finally:
            pg.close()
    finally:
        duck.close()


def _copy(duck: duckdb.DuckDBPyConnection, pg: duckdb.DuckDBPyConnection, source: str, target: str) -> StoreCopy:
    tables = _tables(duck)
    target_tables = set(_tables(pg))
    missing = sorted(set(tables) - target_tables)
    if missing:
        raise ContactsError(f"The PostgreSQL schema has no table {', '.join(missing)}; is its code older?")
    with transaction(duck), transaction(pg):  # one snapshot of the file, one transaction on the target
        filled = [table for table in target_tables if table not in _SEEDED and _count(pg, table)]
        if filled:
            raise ContactsError(f"The target database is not empty ({', '.join(sorted(filled))}); use a new one.")
        for table in _SEEDED:  # the file's stages and settings replace the defaults the migrations wrote
            pg.execute(f'DELETE FROM "{table}"')
        _add_field_columns(duck, pg)
        copied = {table: _copy_table(duck, pg, table) for table in tables}
        sequences = _copy_sequences(duck, pg)
        counted = {table: _count(pg, table) for table in tables}
        if counted != copied:
            wrong = sorted(table for table in tables if counted[table] != copied[table])
            raise ContactsError(f"The copy does not match the file ({', '.join(wrong)}); nothing was written.")
    return StoreCopy(source=source, target=_without_password(target), tables=copied, sequences=sequences)


def _add_field_columns(duck: duckdb.DuckDBPyConnection, pg: duckdb.DuckDBPyConnection) -> None:
    """Each custom field of the file gets its column of custom values on PostgreSQL (core.contacts.custom_values)."""
    from core.contacts.custom_values import add_value_column, field_keys  # it reads through core.db

    present = set(_columns(pg, "custom_values"))
    for key in field_keys(duck):
        if key not in present:
            add_value_column(pg, key)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in found if name not in _NOT_COPIED]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    found = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in found]


def _copy_table(duck: duckdb.DuckDBPyConnection, pg: duckdb.DuckDBPyConnection, table: str) -> int:
    """COPY one table's rows in batches (the columns by name: the two stores may order them differently)."""
    columns = _columns(duck, table)
    if sorted(columns) != sorted(_columns(pg, table)):
        raise ContactsError(f"The table {table} has other columns on PostgreSQL; is its code older?")
    names = ", ".join(f'"{column}"' for column in columns)
    reader = duck.execute(f'SELECT {names} FROM "{table}"')
    copied = 0
    session = pg.session  # type: ignore[attr-defined]  # a core.db.postgres.PostgresConnection
    with session.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        while batch := reader.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            copied += len(batch)
    return copied


def _copy_sequences(duck: duckdb.DuckDBPyConnection, pg: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each sequence continues on PostgreSQL where it stopped in the file (never reusing an ID)."""
    found = duck.execute(
        "SELECT sequence_name, last_value FROM duckdb_sequences() "
        "WHERE database_name = current_database() AND NOT temporary AND last_value IS NOT NULL"
    ).fetchall()
    for name, value in found:
        pg.execute("SELECT setval(?, ?, true)", [name, value])
    return {name: value for name, value in found}


def _without_password(url: str) -> str:
    """The URL as it may be printed: a password in it is hidden."""
    head, at, tail = url.partition("@")
    if not at or ":" not in head.removeprefix("postgresql://").removeprefix("postgres://"):
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{tail}"
