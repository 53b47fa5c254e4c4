"""Arrow extracts: analytical work over a PostgreSQL store runs in DuckDB inside this process (issue 16 point 2).

Duplicate detection needs what PostgreSQL lacks (Jaro-Winkler, DuckDB's list functions and macros) and reads
every contact at once. On PostgreSQL, `analytical(con, tables)` reads the named queries' rows as Arrow (ADBC's
PostgreSQL driver: binary COPY straight into Arrow, no Python object per row), all from one snapshot, into an
in-memory DuckDB, and yields that connection: the DuckDB SQL runs there unchanged, and the caller writes its
results back to the store in one transaction (core.db.scratch: COPY). On DuckDB it yields the connection
itself, at no cost. Measured at 1,000,000 contacts (bench/postgres.py, `extract`): docs/postgres.md.
"""

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import polars as pl
import pyarrow as pa

from core.db.connection import Params, frame
from core.db.dialect import dialect
from core.db.scratch import Scratch, scratch

# The in-process DuckDB's buffer pool; beyond it, it spills to a temporary folder. Both can be set for a large
# store (CONTACTS_ANALYTICAL_MEMORY, e.g. "3GB"; CONTACTS_SPILL_DIR, a folder with room: at 10,000,000 contacts
# detection spills several GB), and CONTACTS_SPILL_LIMIT caps the spill (DuckDB's max_temp_directory_size: past
# it the work fails instead of filling the disk).
ANALYTICAL_MEMORY = "2GB"


def _analytical_config(spill: str) -> dict[str, str | bool | int | float | list[str]]:
    """The in-process DuckDB's settings: its memory limit, its spill folder and (if set) the spill's limit."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("CONTACTS_ANALYTICAL_MEMORY") or ANALYTICAL_MEMORY,
        "temp_directory": spill,
    }
    if limit := os.environ.get("CONTACTS_SPILL_LIMIT"):
        config["max_temp_directory_size"] = limit
    return config


def is_analytical(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether analytical DuckDB SQL runs on `con` as it is (a DuckDB connection)."""
    return dialect(con).name == "duckdb"


@contextmanager
def analytical(con: duckdb.DuckDBPyConnection, tables: Mapping[str, str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection holding `tables` (name -> a SELECT over the store, run on the store): `con` itself on
    DuckDB; on PostgreSQL a new in-memory DuckDB filled from Arrow extracts read in one snapshot, closed after."""
    if is_analytical(con):
        yield con
        return
    spill_root = os.environ.get("CONTACTS_SPILL_DIR") or None
    if spill_root:
        os.makedirs(spill_root, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="contacts-extract-", dir=spill_root) as spill:
        work = duckdb.connect(":memory:", config=_analytical_config(spill))
        try:
            work.execute("SET enable_progress_bar = false")
            with _postgres_reader(con.url) as read:  # type: ignore[attr-defined]  # a PostgresConnection
                for name, sql in tables.items():
                    _table_from(work, name, read(sql))
            yield work
        finally:
            work.close()


def _table_from(work: duckdb.DuckDBPyConnection, name: str, data: object) -> None:
    """A table of the in-process DuckDB `work` holding `data` (Arrow batches or a Polars frame)."""
    work.register(f"{name}_data", data)
    work.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_data")
    work.unregister(f"{name}_data")


@contextmanager
def analytical_in_transaction(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, str], params: Params = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Like `analytical`, but each table is read by `con` itself, inside its open transaction (its own writes and
    scratch relations seen): for the few rows a write works on, like a merge's members. On DuckDB: `con`, where
    the names already read as the store's tables (each SELECT is then not run)."""
    if is_analytical(con):
        yield con
        return
    work = duckdb.connect(":memory:", config={"memory_limit": ANALYTICAL_MEMORY})
    try:
        for name, sql in tables.items():
            _table_from(work, name, frame(con, sql, params))
        yield work
    finally:
        work.close()


@contextmanager
def computed(
    con: duckdb.DuckDBPyConnection, work: duckdb.DuckDBPyConnection, sql: str, params: Params = None
) -> Iterator[Scratch]:
    """The rows of `sql`, run on `work` (an analytical connection of `con`), as a scratch relation both read by
    the same name: on DuckDB a temporary table of `con` (`work` is `con`); else a frame copied into `con` by COPY
    and registered on `work`."""
    if work is con:
        with scratch(con, sql, params) as found:
            yield found
        return
    rows = frame(work, sql, params)
    with scratch(con, rows, table=True) as found:
        work.register(found.name, rows)
        try:
            yield found
        finally:
            work.unregister(found.name)


WRITE_BACK_ROWS = 500_000  # rows per COPY when analytical results go back to a PostgreSQL store


def write_back(con: duckdb.DuckDBPyConnection, work: duckdb.DuckDBPyConnection, table: str, sql: str) -> None:
    """Append the rows of `sql`, run on `work` (an analytical connection of `con`), to `table` of the store (its
    columns by name), inside `con`'s open transaction: on DuckDB one INSERT ... SELECT (`work` is `con`); else read
    from `work` in Arrow batches of WRITE_BACK_ROWS, each copied by COPY, so millions of rows never stand in Python
    at once (10,000,000 contacts' likely pairs with their evidence took GBs as one frame)."""
    if work is con:
        con.execute(f"INSERT INTO {table} BY NAME {sql}")
        return
    for batch in work.sql(sql).to_arrow_reader(WRITE_BACK_ROWS):
        rows = pl.from_arrow(batch)
        assert isinstance(rows, pl.DataFrame)
        con.copy_rows(table, rows)  # type: ignore[attr-defined]  # a PostgresConnection


def arrow_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """A query's rows as a Polars frame, for a large read (an export): on DuckDB `frame`; on PostgreSQL read as
    Arrow by ADBC in a session of its own (no Python object per row: 100,000 contacts' rows cost 11 s to build
    from psycopg's tuples). Its parameters are bound by psycopg on the client (its own quoting, as for COPY) into
    the one statement ADBC runs, so it sees committed data only: not `con`'s open transaction or its temporary
    tables (use `frame` there). An empty list parameter (whose type PostgreSQL cannot tell) goes by `frame`."""
    if is_analytical(con):
        return frame(con, sql, params)
    from core.db.postgres import _has_empty_list, translate

    if _has_empty_list(params):
        return frame(con, sql, params)
    import psycopg

    statement, values = translate(sql, params)
    bound = psycopg.ClientCursor(con.session).mogrify(statement, values)  # type: ignore[attr-defined]
    with _postgres_reader(con.url) as read:  # type: ignore[attr-defined]
        found = pl.from_arrow(_plain(read(bound).read_all()))
    assert isinstance(found, pl.DataFrame)
    return found


def _plain(table: pa.Table) -> pa.Table:
    """`table` with extension-typed columns (ADBC reads json as arrow.json) as their storage (text), as `frame`
    answers them."""
    for spot, field in enumerate(table.schema):
        if isinstance(field.type, pa.BaseExtensionType):
            chunks = [chunk.storage for chunk in table.column(spot).chunks]
            table = table.set_column(spot, field.name, pa.chunked_array(chunks, type=field.type.storage_type))
    return table


def arrow_table(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's rows as an Arrow table (a SELECT without parameters), read by ADBC on PostgreSQL."""
    if is_analytical(con):
        return con.sql(sql).to_arrow_table()
    with _postgres_reader(con.url) as read:  # type: ignore[attr-defined]
        return read(sql).read_all()


@contextmanager
def _postgres_reader(url: str) -> Iterator:
    """A function reading a query's rows as an Arrow batch reader, every query of the block in one snapshot
    (a REPEATABLE READ, READ ONLY transaction of an ADBC session of its own)."""
    import adbc_driver_postgresql.dbapi as adbc  # loaded only for a PostgreSQL store

    with adbc.connect(url, autocommit=True) as session, session.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

        def read(sql: str) -> pa.RecordBatchReader:
            cursor.execute(sql)
            return cursor.fetch_record_batch()

        try:
            yield read
        finally:
            cursor.execute("ROLLBACK")
