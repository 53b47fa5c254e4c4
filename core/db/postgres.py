"""PostgreSQL behind the surface the code uses on a DuckDB connection (psycopg 3), for `CONTACTS_DB=postgresql://...`.

`PostgresConnection` answers what `core` asks of a `duckdb.DuckDBPyConnection`: `execute(sql, params)` with `?`
or `$name` placeholders (rewritten to psycopg's), `fetchone`/`fetchall`/`description`, INSERT/UPDATE/DELETE and
CREATE TABLE ... AS answering their row count as a one-row result (DuckDB does), `sql(...).pl()`,
`register`/`unregister` of a Polars frame (a temporary table filled by COPY), `cursor()` and `close()`.

Sessions run in autocommit: `core.db.transaction` sends BEGIN and COMMIT itself, as on DuckDB. Transactions run
at REPEATABLE READ, DuckDB's snapshot isolation: a row written by a transaction that committed after this one
began cannot be written here (a serialization failure, which `conflicts_as_stale` turns into the stale-contact
message). A cursor is a session of its own (DuckDB wants a cursor per thread; PostgreSQL a connection per
concurrent transaction), taken from and given back to a small pool of idle sessions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import polars as pl
import psycopg
from psycopg import sql as pgsql
from psycopg.types.string import TextLoader

Params = Mapping[str, Any] | Sequence[Any] | None
# Statements answered with their row count, as DuckDB does; "SELECT n" without rows is CREATE TABLE ... AS.
_ROW_COUNT_COMMANDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "SELECT")
IDLE_SESSIONS_KEPT = 8
# How long a write waits for a row another open transaction is writing before it is refused as a conflict
# (core.db.conflicts_as_stale: the stale-contact message). DuckDB refuses at once.
LOCK_TIMEOUT = "2s"


# --- Placeholders ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _split_placeholders(sql: str) -> tuple[tuple[str, ...], tuple[str | int, ...]]:
    """The SQL cut at its placeholders: text pieces (one more than placeholders) and each placeholder, `?` as its
    position (0, 1, ...) and `$name` as the name; quoted text, identifiers and comments are left alone, and `%`
    outside them is doubled for psycopg."""
    pieces: list[str] = []
    holders: list[str | int] = []
    current: list[str] = []
    position = 0
    index, length = 0, len(sql)
    while index < length:
        char = sql[index]
        if char in "'\"":
            end = index + 1
            while end < length:
                if sql[end] == char:
                    if end + 1 < length and sql[end + 1] == char:  # '' or "" inside: an escaped quote
                        end += 2
                        continue
                    break
                end += 1
            current.append(sql[index : end + 1].replace("%", "%%"))
            index = end + 1
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            end = length if end == -1 else end
            current.append(sql[index:end].replace("%", "%%"))
            index = end
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)
            end = length if end == -1 else end + 2
            current.append(sql[index:end].replace("%", "%%"))
            index = end
        elif char == "?":
            pieces.append("".join(current))
            current = []
            holders.append(position)
            position += 1
            index += 1
        elif char == "$" and index + 1 < length and (sql[index + 1].isalnum() or sql[index + 1] == "_"):
            end = index + 1
            while end < length and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            name = sql[index + 1 : end]
            pieces.append("".join(current))
            current = []
            holders.append(int(name) - 1 if name.isdigit() else name)  # $1 is the first positional value
            index = end
        elif char == "%":
            current.append("%%")
            index += 1
        else:
            current.append(char)
            index += 1
    pieces.append("".join(current))
    return tuple(pieces), tuple(holders)


# The array types an empty list is tried as, in order (see PostgresConnection.execute): its items cannot tell.
EMPTY_LIST_TYPES = ("text", "bigint")


def _cast_for(value: Any, empty_list: str = EMPTY_LIST_TYPES[0]) -> str:
    """A cast that gives a list parameter its array type (psycopg sends a list of text as `unknown[]`)."""
    if not isinstance(value, list | tuple):
        return ""
    kinds = {type(item) for item in value if item is not None}
    if not kinds:
        return f"::{empty_list}[]"
    if kinds <= {str}:
        return "::text[]"
    if kinds <= {int}:
        return "::bigint[]"
    if kinds <= {int, float}:
        return "::double precision[]"
    if kinds <= {bool}:
        return "::boolean[]"
    return ""


_AFTER_SUBQUERY = frozenset(
    "WHERE GROUP ORDER LIMIT OFFSET UNION EXCEPT INTERSECT HAVING WINDOW JOIN LEFT RIGHT INNER FULL CROSS "
    "NATURAL ON USING RETURNING FETCH FOR".split()
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


@lru_cache(maxsize=4096)
def name_subqueries(sql: str) -> str:
    """The SQL with a name given to each unnamed subquery in FROM or JOIN: DuckDB (and PostgreSQL 16) accept
    `FROM (SELECT ...) WHERE ...`, PostgreSQL 15 wants `FROM (SELECT ...) AS name`."""
    out: list[str] = []
    opened: list[bool] = []  # per open parenthesis: a subquery in FROM or JOIN
    last_word = ""
    index, length, named = 0, len(sql), 0
    while index < length:
        char = sql[index]
        if char in "'\"":
            end = index + 1
            while end < length and not (sql[end] == char and not sql.startswith(char * 2, end)):
                end += 2 if sql.startswith(char * 2, end) else 1
            out.append(sql[index : end + 1])
            index = end + 1
            last_word = ""
            continue
        if sql.startswith("--", index) or sql.startswith("/*", index):
            end = sql.find("\n" if char == "-" else "*/", index)
            end = length if end == -1 else end + (0 if char == "-" else 2)
            out.append(sql[index:end])
            index = end
            continue
        word = _WORD.match(sql, index)
        if word:
            out.append(word.group())
            last_word = word.group().upper()
            index = word.end()
            continue
        if char == "(":
            after = _WORD.match(sql, _skip_space(sql, index + 1))
            first = after.group().upper() if after else ""
            opened.append(last_word in ("FROM", "JOIN") and first in ("SELECT", "WITH", "VALUES", "FROM"))
        elif char == ")" and opened:
            if opened.pop():
                ahead = _skip_space(sql, index + 1)
                follower = _WORD.match(sql, ahead)
                if ahead >= length or sql[ahead] in "),;" or (follower and follower.group().upper() in _AFTER_SUBQUERY):
                    named += 1
                    out.append(f") AS subquery_{named}")
                    index += 1
                    last_word = ""
                    continue
        if not char.isspace():
            last_word = ""
        out.append(char)
        index += 1
    return "".join(out)


def _skip_space(sql: str, index: int) -> int:
    while index < len(sql) and sql[index].isspace():
        index += 1
    return index


def translate(sql: str, params: Params, empty_list: str = EMPTY_LIST_TYPES[0]) -> tuple[str, Params]:
    """DuckDB-style SQL and parameters (`?` with a list, `$name` with a dict) as psycopg's (`%s`, `%(name)s`),
    unnamed subqueries named (see name_subqueries); an empty list is sent as an array of `empty_list`."""
    sql = name_subqueries(sql)
    if params is None:
        return sql, None
    pieces, holders = _split_placeholders(sql)
    out = [pieces[0]]
    if isinstance(params, Mapping):
        named = {str(key): value for key, value in params.items()}
        for holder, piece in zip(holders, pieces[1:], strict=True):
            key = str(holder)
            out.append(f"%({key})s{_cast_for(named.get(key), empty_list)}{piece}")
        return "".join(out), named
    values = list(params)
    if any(isinstance(holder, str) for holder in holders):
        raise ValueError("named placeholders ($name) need a dict of parameters")
    if any(isinstance(holder, int) and holder != spot for spot, holder in enumerate(holders)):
        # $2 before $1, or one used twice: name them so psycopg can reuse a value
        named = {f"p{spot}": value for spot, value in enumerate(values)}
        for holder, piece in zip(holders, pieces[1:], strict=True):
            out.append(f"%(p{holder})s{_cast_for(named[f'p{holder}'], empty_list)}{piece}")
        return "".join(out), named
    for holder, piece in zip(holders, pieces[1:], strict=True):
        out.append(f"%s{_cast_for(values[int(holder)], empty_list)}{piece}")
    return "".join(out), values


def _has_empty_list(params: Params) -> bool:
    if params is None:
        return False
    values = params.values() if isinstance(params, Mapping) else params
    return any(isinstance(value, list | tuple) and not any(item is not None for item in value) for value in values)


# --- Result types ----------------------------------------------------------------------------------------------

_POLARS_TYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "varchar": pl.String(),
    "bpchar": pl.String(),
    "name": pl.String(),
    "json": pl.String(),  # DuckDB answers JSON as text; so does this adapter (see _TEXT_LOADED)
    "jsonb": pl.String(),
    "int2": pl.Int16(),
    "int4": pl.Int32(),
    "int8": pl.Int64(),
    "float4": pl.Float32(),
    "float8": pl.Float64(),
    "numeric": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
    "timestamptz": pl.Datetime("us", "UTC"),
    "_text": pl.List(pl.String()),
    "_varchar": pl.List(pl.String()),
    "_int8": pl.List(pl.Int64()),
    "_int4": pl.List(pl.Int32()),
}
_TEXT_LOADED = ("json", "jsonb")

_PG_TYPES: list[tuple[type[pl.DataType], str]] = [
    (pl.String, "text"),
    (pl.Boolean, "boolean"),
    (pl.Int8, "smallint"),
    (pl.Int16, "smallint"),
    (pl.Int32, "integer"),
    (pl.UInt8, "smallint"),
    (pl.UInt16, "integer"),
    (pl.Int64, "bigint"),
    (pl.UInt32, "bigint"),
    (pl.UInt64, "numeric"),
    (pl.Float32, "real"),
    (pl.Float64, "double precision"),
    (pl.Date, "date"),
    (pl.Null, "text"),
]


def postgres_type(dtype: pl.DataType) -> str:
    """The PostgreSQL column type for a Polars dtype (a frame copied into a temporary table)."""
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.List):
        return postgres_type(dtype.inner) + "[]"  # type: ignore[arg-type]
    for kind, name in _PG_TYPES:
        if isinstance(dtype, kind):
            return name
    raise TypeError(f"no PostgreSQL type for a {dtype} column")


def _array_literal(column: str, inner: pl.DataType) -> pl.Expr:
    """A list column as PostgreSQL array literals ('{"a","b\\"c",NULL}'), NULL where the list is."""
    item = pl.element().cast(pl.String)
    if isinstance(inner, pl.String):
        escaped = item.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        item = pl.lit('"') + escaped + pl.lit('"')
    items = pl.col(column).list.eval(pl.when(pl.element().is_null()).then(pl.lit("NULL")).otherwise(item))
    return (pl.lit("{") + items.list.join(",") + pl.lit("}")).alias(column)


def copy_csv(data: pl.DataFrame) -> bytes | None:
    """The frame's rows as CSV for `COPY ... (FORMAT csv)`: a NULL is an empty field, an empty text a quoted one;
    lists of scalars become array literals. None when a column has no CSV form here (a list of lists or records):
    the caller then copies row by row. Polars writes 1,000,000 staged import rows in a fraction of a second where
    psycopg's row-by-row copy took 4 s of the app's CPU."""
    literals = []
    for column, dtype in data.schema.items():
        if isinstance(dtype, pl.List):
            if not any(isinstance(dtype.inner, kind) for kind, _ in _PG_TYPES):
                return None
            literals.append(_array_literal(column, dtype.inner))  # type: ignore[arg-type]
        elif not any(isinstance(dtype, kind) for kind, _ in _PG_TYPES) and not isinstance(dtype, pl.Datetime):
            return None
    # Text quoted: an unquoted \\. alone on a line would end the copy.
    return data.with_columns(literals).write_csv(include_header=False, quote_style="non_numeric").encode()


def _polars_type(type_name: str | None) -> pl.DataType | None:
    return _POLARS_TYPES.get(type_name or "")


# --- The connection --------------------------------------------------------------------------------------------


class _Result:
    """What `sql()` returns: the rows of one query, as a Polars frame on request (DuckDB's relation `.pl()`)."""

    def __init__(self, con: PostgresConnection) -> None:
        self._con = con

    def pl(self) -> pl.DataFrame:
        return self._con.frame()

    def fetchall(self) -> list[tuple]:
        return self._con.fetchall()


class PostgresConnection:
    """A PostgreSQL session with the DuckDB connection surface `core` uses (see the module docstring)."""

    dialect_name = "postgres"

    def __init__(self, url: str, *, _pool: _SessionPool | None = None) -> None:
        self.url = url
        self._pool = _pool or _SessionPool(url)
        self._session: psycopg.Connection | None = self._pool.take()
        self._cursor: psycopg.Cursor | None = None
        self._rows: list[tuple] | None = None

    # -- DuckDB's surface --

    def execute(self, sql: str, params: Params = None) -> PostgresConnection:
        """Run one statement (or several, without parameters); returns the connection, like DuckDB."""
        if _has_empty_list(params):
            self._take_result(self._execute_typing_empty_lists(sql, params))
            return self
        statement, values = translate(sql, params)
        cursor = self._open_session().cursor()
        cursor.execute(statement, values, prepare=False)
        self._take_result(cursor)
        return self

    def _execute_typing_empty_lists(self, sql: str, params: Params) -> psycopg.Cursor:
        """Run a statement given an empty list: its items cannot tell its type (DuckDB's empty list fits any), so it
        is sent as each of EMPTY_LIST_TYPES in turn until the statement type-checks (`row_key IN (SELECT
        unnest($keys))` wants bigint[], `contact_id IN (...)` text[]). Inside a transaction each try runs under a
        savepoint, so a refused type leaves the transaction usable."""
        session = self._open_session()
        in_transaction = session.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        for spot, element in enumerate(EMPTY_LIST_TYPES):
            statement, values = translate(sql, params, element)
            cursor = session.cursor()
            if in_transaction:
                cursor.execute("SAVEPOINT empty_list")
            try:
                cursor.execute(statement, values, prepare=False)
            except (psycopg.errors.UndefinedFunction, psycopg.errors.DatatypeMismatch):
                if in_transaction:
                    session.execute("ROLLBACK TO SAVEPOINT empty_list")
                if spot == len(EMPTY_LIST_TYPES) - 1:
                    raise
                continue
            if in_transaction:
                session.execute("RELEASE SAVEPOINT empty_list")
            return cursor
        raise AssertionError("unreachable")

    def executemany(self, sql: str, params: Sequence[Params]) -> PostgresConnection:
        """Run one statement once per parameter set."""
        batches = [translate(sql, one) for one in params]
        cursor = self._open_session().cursor()
        if batches:
            cursor.executemany(batches[0][0], [values for _, values in batches])  # type: ignore[misc]
        self._take_result(cursor)
        return self

    def sql(self, sql: str, params: Params = None) -> _Result:
        """Run a query now (DuckDB builds a lazy relation; here the rows are fetched); `.pl()` gives the frame."""
        self.execute(sql, params)
        return _Result(self)

    def fetchall(self) -> list[tuple]:
        found, self._rows = self._rows or [], []
        return found

    def fetchone(self) -> tuple | None:
        if not self._rows:
            return None
        return self._rows.pop(0)

    @property
    def description(self) -> list[Any] | None:
        return None if self._cursor is None else self._cursor.description

    def frame(self) -> pl.DataFrame:
        """The last result as a Polars frame, its columns typed from PostgreSQL's types even when empty."""
        description = self._cursor.description if self._cursor is not None else None
        if not description:
            return pl.DataFrame()
        names = [column.name for column in description]
        types = [_polars_type(self._type_name(column.type_code)) for column in description]
        found = self.fetchall()
        columns = {
            name: pl.Series(name, [row[spot] for row in found], dtype=kind, strict=False)
            for spot, (name, kind) in enumerate(zip(names, types, strict=True))
        }
        return pl.DataFrame(columns)

    def register(self, name: str, data: pl.DataFrame) -> None:
        """Make a frame readable by name: a temporary table of this session, filled by COPY."""
        columns = pgsql.SQL(", ").join(
            pgsql.SQL("{} {}").format(pgsql.Identifier(column), pgsql.SQL(postgres_type(dtype)))
            for column, dtype in data.schema.items()
        )
        session = self._open_session()
        session.execute(pgsql.SQL("CREATE TEMP TABLE {} ({})").format(pgsql.Identifier(name), columns))
        self.copy_rows(name, data)

    def copy_rows(self, table: str, data: pl.DataFrame) -> None:
        """Append a frame's rows to a table by COPY (its columns by name): as CSV that Polars writes, else (a column
        CSV cannot hold) row by row."""
        columns = pgsql.SQL(", ").join(pgsql.Identifier(column) for column in data.columns)
        text = copy_csv(data)
        if text is not None:
            target = pgsql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(pgsql.Identifier(table), columns)
            with self._open_session().cursor().copy(target) as copy:
                copy.write(text)
            return
        target = pgsql.SQL("COPY {} ({}) FROM STDIN").format(pgsql.Identifier(table), columns)
        with self._open_session().cursor().copy(target) as copy:
            for row in data.iter_rows():
                copy.write_row(row)

    def unregister(self, name: str) -> None:
        self._open_session().execute(pgsql.SQL("DROP TABLE IF EXISTS {}").format(pgsql.Identifier(name)))

    def cursor(self) -> PostgresConnection:
        """A session of its own on the same database (for a thread, or a transaction beside this one's)."""
        return PostgresConnection(self.url, _pool=self._pool)

    def close(self) -> None:
        """Give the session back (rolled back if a transaction was left open); the connection is then unusable."""
        session, self._session = self._session, None
        if session is not None:
            self._pool.give_back(session)

    def __del__(self) -> None:  # a cursor dropped without close() (DuckDB's are closed by the garbage collector)
        try:
            self.close()
        except Exception:  # noqa: BLE001 - an interpreter shutting down may have torn down psycopg already
            pass

    def __enter__(self) -> PostgresConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- helpers --

    @property
    def session(self) -> psycopg.Connection:
        """The psycopg connection under this one (for COPY and other PostgreSQL-only work in core/db)."""
        return self._open_session()

    def _open_session(self) -> psycopg.Connection:
        if self._session is None:
            raise psycopg.InterfaceError("the connection is closed")
        return self._session

    def _take_result(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor
        if cursor.description is not None:
            self._rows = cursor.fetchall()
        elif (cursor.statusmessage or "").startswith(_ROW_COUNT_COMMANDS):
            self._rows = [(cursor.rowcount,)]  # DuckDB answers a write with its row count
        else:
            self._rows = []

    def _type_name(self, oid: int) -> str | None:
        info = self._open_session().adapters.types.get(oid)
        if info is None:
            return None
        return "_" + info.name if info.array_oid == oid else info.name  # an array type answers its element's info


class _SessionPool:
    """Idle psycopg sessions to one database, handed out to cursors and taken back when they close."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def take(self) -> psycopg.Connection:
        with self._lock:
            while self._idle:
                session = self._idle.pop()
                if not session.closed:
                    return session
        return connect_session(self.url)

    def give_back(self, session: psycopg.Connection) -> None:
        if session.closed or session.broken:
            return
        if session.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            session.execute("ROLLBACK")
        session.execute("DISCARD TEMP")  # a later cursor must not meet this one's scratch tables
        with self._lock:
            if len(self._idle) < IDLE_SESSIONS_KEPT:
                self._idle.append(session)
                return
        session.close()


def connect_session(url: str) -> psycopg.Connection:
    """A psycopg session as the adapter wants it: autocommit, REPEATABLE READ, JSON read as text."""
    session = psycopg.connect(url, autocommit=True)
    for type_name in _TEXT_LOADED:
        session.adapters.register_loader(type_name, TextLoader)
    session.execute("SET default_transaction_isolation TO 'repeatable read'")
    session.execute("SET TIME ZONE 'UTC'")
    session.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    # No JIT: the app's statements are either short (list pages and searches: their plans cost too little for it to
    # start) or full scans, whose compiling costs more than it saves: at 10,000,000, server CPU with it off, the
    # dashboard's figures 36.2 -> 32.6 s, a count of a 3-condition filter 3.6-3.8 -> 3.4-3.5 s, searches equal.
    session.execute("SET jit = off")
    # The compat functions (migrations 020, 023, 024) before PostgreSQL's own: regexp_matches means DuckDB's there.
    session.execute("SET search_path = public, pg_catalog")
    return session


def open_postgres(url: str) -> PostgresConnection:
    """A session on the PostgreSQL database at `url` (not yet migrated: see core.db.open_database)."""
    return PostgresConnection(url)


__all__ = [
    "PostgresConnection",
    "open_postgres",
    "postgres_type",
    "translate",
]
