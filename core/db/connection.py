"""Opening a database, applying migrations, transactions and small query helpers."""

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from core.errors import DatabaseLockedError, StaleContactError

Params = Mapping[str, Any] | Sequence[Any] | None


def keep_private(target: str) -> None:
    """Make the database file and its write-ahead log readable by their owner only (0600).

    DuckDB creates the .wal again after every checkpoint, with the process's umask: so the process keeps a
    umask that gives group and others nothing (every file it creates afterwards is private too, like the
    ingest token), and a database made before this is narrowed here.
    """
    os.umask(os.umask(0o077) | 0o077)
    for kept in (Path(target), Path(target + ".wal")):
        if kept.exists():
            kept.chmod(0o600)


def open_database(
    path: str | Path = ":memory:", read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a contacts database and bring its schema up to date.

    `memory_limit` (e.g. "1GB") caps DuckDB's buffer pool; it spills to disk beyond it.
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        keep_private(target)
    try:
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit} if memory_limit else {}
        con = duckdb.connect(target, read_only=read_only, config=config)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseLockedError(
                f"The database {target} is in use by another process (is the app running?); "
                "stop it or send the work to the running app."
            ) from None
        raise
    con.execute("SET enable_progress_bar = false")  # it would print into notebooks and command output
    if not read_only:
        apply_migrations(con)
    return con


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with core, in order."""
    folder = resources.files("core.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply, each in its own transaction, the migrations this database has not recorded."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_localtimestamp())", [version, name])
        applied.append(name)
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is applied, or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def conflicts_as_stale(message: str) -> Iterator[None]:
    """A write conflict with another connection means a contact changed under the block: say `message`."""
    try:
        yield
    except duckdb.TransactionException as error:
        if "conflict" not in str(error).lower():
            raise
        raise StaleContactError(message) from error


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """Run a query and return its result as a Polars frame."""
    return con.sql(sql, params=params).pl()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> list[tuple]:
    """Run a query and return every row."""
    return con.execute(sql, params).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    """Run a query and return the first column of its first row (None when empty)."""
    found = con.execute(sql, params).fetchall()
    return found[0][0] if found else None
