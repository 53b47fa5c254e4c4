"""Arrow extracts: analytical work over a PostgreSQL store runs in DuckDB inside this process (issue 16 point 2).

Duplicate detection needs what PostgreSQL lacks (Jaro-Winkler, DuckDB's list functions and macros) and reads
every contact at once. On PostgreSQL, `analytical(con, tables)` reads the named queries' rows as Arrow (ADBC's
PostgreSQL driver: binary COPY straight into Arrow, no Python object per row), all from one snapshot, into an
in-memory DuckDB, and yields that connection: the DuckDB SQL runs there unchanged, and the caller writes its
results back to the store in one transaction (core.db.scratch: COPY). On DuckDB it yields the connection
itself, at no cost. Measured at 1,000,000 contacts (bench/postgres.py, `extract`): docs/postgres.md.
"""

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from core.db.connection import Params, frame
from core.db.dialect import dialect
from core.db.scratch import Scratch, scratch

# The in-process DuckDB's buffer pool; beyond it, it spills to a temporary folder.
ANALYTICAL_MEMORY = "2GB"


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
    with tempfile.TemporaryDirectory(prefix="contacts-extract-") as spill:
        work = duckdb.connect(":memory:", config={"memory_limit": ANALYTICAL_MEMORY, "temp_directory": spill})
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
