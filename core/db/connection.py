"""Opening a database, applying migrations, transactions and small query helpers."""

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl

from core.db.dialect import dialect, postgres_migration
from core.errors import DatabaseLockedError, StaleContactError

Params = Mapping[str, Any] | Sequence[Any] | None
# The connection type feature code names. A PostgreSQL database (CONTACTS_DB=postgresql://...) is opened as a
# core.db.postgres.PostgresConnection, which has the surface the code uses on this type (docs/postgres.md).
Connection = duckdb.DuckDBPyConnection
POSTGRES_SUFFIX = ".postgres.sql"  # a migration's PostgreSQL spelling, beside NNN_name.sql
# PostgreSQL: serialization failure, deadlock detected, and a lock not granted within the session's lock_timeout
# (a row another open transaction is writing: DuckDB refuses such a write at once, PostgreSQL waits, briefly).
_WRITE_CONFLICT_STATES = ("40001", "40P01", "55P03")
_LOCK_WAIT_STATE = "55P03"
_KEY_TAKEN_STATE = "23505"  # PostgreSQL: unique_violation
_MIGRATION_LOCK = 16_016  # PostgreSQL advisory lock: one process migrates at a time


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

    `path` is a DuckDB file (or ":memory:"), or a `postgresql://` URL: then the connection is a
    core.db.postgres.PostgresConnection (typed as DuckDB's: it has the surface the code uses).
    `memory_limit` (e.g. "1GB") caps DuckDB's buffer pool; it spills to disk beyond it.
    """
    target = str(path)
    if is_postgres_url(target):
        return _open_postgres(target, read_only)
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


def is_postgres_url(target: object) -> bool:
    """Whether a database target (CONTACTS_DB, --db) names a PostgreSQL database rather than a DuckDB file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _open_postgres(url: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    from core.db.postgres import open_postgres  # psycopg is loaded only for a PostgreSQL store

    con = cast(duckdb.DuckDBPyConnection, open_postgres(url))
    if not read_only:
        apply_migrations(con)
    return con


def migration_files(store: str = "duckdb") -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with core, in order, as `store` ("duckdb" or "postgres")
    runs them: NNN_name.postgres.sql, when there is one, stands in for NNN_name.sql on PostgreSQL."""
    folder = resources.files("core.db") / "migrations"
    plain: dict[str, str] = {}
    postgres: dict[str, str] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(POSTGRES_SUFFIX):
            postgres[entry.name.removesuffix(POSTGRES_SUFFIX) + ".sql"] = entry.read_text(encoding="utf-8")
        elif entry.name.endswith(".sql"):
            plain[entry.name] = entry.read_text(encoding="utf-8")
    if store == "postgres":
        plain = {name: postgres.get(name) or postgres_migration(sql) for name, sql in plain.items()}
    return sorted((int(name.split("_", 1)[0]), name, sql) for name, sql in plain.items())


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply, each in its own transaction, the migrations this database has not recorded."""
    store = dialect(con)
    if store.name == "postgres":  # several app processes may start at once: one migrates, the others wait
        while not con.execute("SELECT pg_try_advisory_lock(?)", [_MIGRATION_LOCK]).fetchall()[0][0]:
            time.sleep(0.1)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        applied = []
        for version, name, sql in migration_files() if store.name == "duckdb" else migration_files(store.name):
            if version in done:
                continue
            with transaction(con):
                if sql_statements(sql):
                    con.execute(sql)
                con.execute(f"INSERT INTO schema_migrations VALUES (?, ?, {store.now_local()})", [version, name])
            applied.append(name)
    finally:
        if store.name == "postgres":
            con.execute("SELECT pg_advisory_unlock(?)", [_MIGRATION_LOCK])
    return applied


def sql_statements(sql: str) -> bool:
    """Whether a migration holds any statement (a file may be comments only: a step one store does not need)."""
    return any(line.split("--", 1)[0].strip() for line in sql.splitlines())


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
    except Exception as error:
        if not is_write_conflict(error):
            raise
        raise StaleContactError(message) from error


def is_write_conflict(error: BaseException, key_taken: bool = False) -> bool:
    """Whether `error` is another connection's write meeting this one's: DuckDB's write-write conflict;
    PostgreSQL's serialization failure, deadlock or row lock not granted in time, and with `key_taken` a unique key
    another transaction inserted meanwhile (for writers that look a key up, then insert it). psycopg is not
    imported for a DuckDB store: its errors are told by their sqlstate."""
    if isinstance(error, duckdb.TransactionException):
        return "conflict" in str(error).lower()
    state = getattr(error, "sqlstate", None)
    return state in _WRITE_CONFLICT_STATES or (key_taken and state == _KEY_TAKEN_STATE)


def is_lock_wait(error: BaseException) -> bool:
    """Whether `error` is a statement that waited past its session's lock timeout for a table another transaction
    holds (PostgreSQL's lock_not_available: a first import building its tables' indexes after its rows,
    core.db.bulk). One DuckDB process never waits for a lock."""
    return getattr(error, "sqlstate", None) == _LOCK_WAIT_STATE


def is_database_error(error: BaseException) -> bool:
    """Whether an exception comes from the database (DuckDB's or PostgreSQL's driver) rather than the code."""
    return isinstance(error, duckdb.Error) or type(error).__module__.startswith("psycopg")


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """Run a query and return its result as a Polars frame."""
    return con.sql(sql, params=params).pl()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> list[tuple]:
    """Run a query and return every row."""
    return con.execute(sql, params).fetchall()


def constants(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """A list of values as named parameters for `IN (...)`: the SQL list and its parameters. Constants, not a joined
    relation, let the store skip what cannot hold them (DuckDB's row groups of a sorted column, an index)."""
    params = {f"{prefix}_{i}": value for i, value in enumerate(values)}
    return ", ".join(f"${name}" for name in params), params


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    """Run a query and return the first column of its first row (None when empty)."""
    found = con.execute(sql, params).fetchall()
    return found[0][0] if found else None
