"""Scratch relations: a frame, a list of contact IDs or a query's rows, named for SQL for the length of a block.

Functions that work on many rows at once hand each other a `Scratch` (the relation's generated name),
never SQL text or a table name of their own making. Every relation is materialised: a registered frame
or a temporary table, never a view over stored tables, so a block may change the tables it was made from.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from core.db.connection import Params, is_database_error
from core.db.dialect import dialect

STATISTICS_ROWS = 10_000  # a relation of this many rows or more gets the planner's statistics (see scratch)


@dataclass(frozen=True, slots=True)
class Scratch:
    """A scratch relation made by `scratch` or `scratch_ids`; it reads as its name in SQL (`f"FROM {ids}"`)."""

    name: str
    table: bool  # a temporary table (else a frame registered on the connection)

    def __str__(self) -> str:
        return self.name


@contextmanager
def scratch(
    con: duckdb.DuckDBPyConnection, source: pl.DataFrame | str, params: Params = None, *, table: bool | None = None
) -> Iterator[Scratch]:
    """Name `source` for SQL on this connection until the block ends, then drop it (also when the block fails).

    `source` is a Polars frame or a SELECT statement with its `params`. With `table=False` (a frame's
    default) the frame is registered as it is: no copy, each statement reads it from the frame. With
    `table=True` it is copied into a temporary table once, for a relation read by many statements or
    joined in updates. A SELECT is always copied into a temporary table (`table=False` is refused): it is
    computed once, and stays what it was when the block changes the tables it read.

    The name is new on every call, so concurrent cursors and nested blocks never meet. Made inside a
    transaction, the relation is part of it: a rollback removes it too.
    """
    name = f"scratch_{uuid.uuid4().hex}"
    if isinstance(source, str):
        if table is False:
            raise ValueError("a query's rows are always copied into a temporary table")
        filled = con.execute(f"CREATE TEMP TABLE {name} AS {source}", params).fetchone()
        _gather_statistics(con, name, filled[0] if filled else 0)
    elif table:
        _copy_frame(con, name, source)
        _gather_statistics(con, name, source.height)
    else:
        con.register(name, source)
        _gather_statistics(con, name, source.height)
    copied = isinstance(source, str) or bool(table)
    try:
        yield Scratch(name, copied)
    except BaseException:
        _drop_quietly(con, name, copied)
        raise
    _drop(con, name, copied)


def scratch_ids(
    con: duckdb.DuckDBPyConnection, contact_ids: Iterable[str], *, table: bool = False
) -> AbstractContextManager[Scratch]:
    """Contact IDs (repeats dropped, order kept) as a scratch relation of one column, contact_id; see `scratch`."""
    ids = pl.DataFrame({"contact_id": list(dict.fromkeys(contact_ids))}, schema={"contact_id": pl.String})
    return scratch(con, ids, table=table)


def _gather_statistics(con: duckdb.DuckDBPyConnection, name: str, row_count: int) -> None:
    """Statistics for the planner on a large relation (PostgreSQL: ANALYZE; DuckDB needs none). Small ones go
    without: their plans hardly depend on it, and an interactive page should not pay a statement for it."""
    statement = dialect(con).table_statistics(name)
    if statement and row_count >= STATISTICS_ROWS:
        con.execute(statement)


def _copy_frame(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame) -> None:
    source = f"{name}_source"
    con.register(source, data)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {source}")
    except BaseException:
        _drop_quietly(con, source, table=False)
        raise
    con.unregister(source)


def _drop(con: duckdb.DuckDBPyConnection, name: str, table: bool) -> None:
    if table:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    else:
        con.unregister(name)


def _drop_quietly(con: duckdb.DuckDBPyConnection, name: str, table: bool) -> None:
    """Drop on the way out of a failed block without hiding why it failed.

    A transaction aborted by a failed statement refuses every statement until its rollback; that rollback
    then removes the relation, since it was made inside the transaction (a block never outlives the
    transaction it was made in).
    """
    try:
        _drop(con, name, table)
    except Exception as error:  # either store's database error (psycopg is not imported for DuckDB)
        if not is_database_error(error):
            raise
