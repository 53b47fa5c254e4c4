"""The SQL that differs between DuckDB and PostgreSQL, by name, so feature code never branches on the store.

`dialect(con)` gives the object for the connection's store; each method returns a SQL fragment built from the
fragments it is given (column names, placeholders such as "$ids": never values). Add a method to both classes
when a new difference comes up, with a test in tests/postgres/test_dialect.py (docs/postgres.md, "The rule
for new SQL").
"""

import re
from typing import Any, Protocol

# What separates the search index's words on DuckDB: anything but a Unicode letter or digit (RE2).
WORD_SEPARATORS = r"[^\pL\pN]+"


class Dialect(Protocol):
    """What differs between the stores; DuckDB's spelling is the reference."""

    name: str
    # Whether one process alone writes the database (a DuckDB file: its write stamps may live in that process's
    # memory) or several may (PostgreSQL: the stamps live in the database, core/stamps.py).
    one_writer_process: bool
    # The setting of how many threads run one query in this process (DuckDB's `threads`: core.jobs lowers it while
    # a job works); None where the server schedules its own work (PostgreSQL).
    threads_setting: str | None
    # Whether rows whose list column changes are best rewritten (deleted and inserted again) rather than updated:
    # DuckDB updates a list column of an indexed table row by row (core.views.bulk._retag); PostgreSQL updates
    # in place (20,000 contacts' tags: an UPDATE 0.8-1.2 s, the delete and insert about 3 s more).
    rewrites_list_updates: bool
    # Whether a list page is read along an index on its sort column with ORDER BY ... LIMIT (PostgreSQL: migration
    # 035's indexes; at 10,000,000 contacts the whole sort of the matching rows took 21 s) rather than by sorting
    # the matching (row_key, sort value) pairs and cutting at the page (DuckDB: core.views.queries._page_ids).
    pages_by_index: bool
    # Whether the search index's term tests of three characters or more are spelled with LIKE, for a trigram index
    # on the terms to answer them (PostgreSQL: pg_trgm, migration 035), so that search_grams is not kept there
    # (migration 043: its upkeep was 31 s of a 1,000,000-row import's server CPU), rather than read through
    # search_grams or by contains/starts_with/suffix over every term (DuckDB scans its sorted terms in milliseconds).
    terms_by_like: bool
    # Whether independent reads of a whole table (the dashboard's figures) are best run at once, each on a session of
    # its own (PostgreSQL: a parallel scan uses up to 3 processes and a grouping-sets scan one, so the figures
    # overlap: 1,000,000 contacts, loaded, 4.9-5.9 s one after another, 3.5-5.0 s at once) rather than one after
    # another (DuckDB: each query already runs on every thread, under one memory limit).
    reads_at_once: bool

    def list_agg(self, expression: str, order_by: str = "") -> str:
        """An aggregate collecting `expression` into a list (DuckDB list, PostgreSQL array)."""
        ...

    def list_position(self, items: str, item: str) -> str:
        """The 1-based position of `item` in the list `items` (NULL when absent)."""
        ...

    def list_contains(self, items: str, item: str) -> str:
        """Whether the list `items` holds `item`."""
        ...

    def list_length(self, items: str) -> str:
        """How many items the list holds (0 for an empty list)."""
        ...

    def empty_list(self) -> str:
        """An empty list of text."""
        ...

    def list_concat_new(self, items: str, added: str) -> str:
        """The list `items` followed by the items of `added` it does not hold (in `added`'s order)."""
        ...

    def list_without(self, items: str, removed: str) -> str:
        """The list `items` without the items the list `removed` holds (order kept)."""
        ...

    def list_has_all(self, items: str, wanted: str) -> str:
        """Whether the list `items` holds every item of the list `wanted`."""
        ...

    def list_has_any(self, items: str, wanted: str) -> str:
        """Whether the list `items` holds an item of the list `wanted`."""
        ...

    def items_once(self, table: str, items: str, where: str) -> str:
        """A relation of one column, `item`: each distinct item of the list `items` of each row of `table` (a table
        and its alias) meeting `where`, once per row (a list holding an item twice gives it once). DuckDB unnests
        list_distinct; PostgreSQL keeps an item at its first place in the list (array_position), a filter on the
        unnested rows: its per-row DISTINCT was a subquery per contact (2.6 s of 1,000,000; a plain `SELECT DISTINCT
        contact_id, unnest(tags)` hashed 10M pairs at 10M)."""
        ...

    def contains(self, text: str, part: str) -> str:
        """Whether `text` holds `part` (case-sensitive, no wildcards)."""
        ...

    def regexp_matches(self, text: str, pattern: str, ignore_case: bool = False) -> str:
        """Whether `text` matches the regular expression `pattern` anywhere."""
        ...

    def try_cast(self, expression: str, type_name: str) -> str:
        """`expression` as DOUBLE or TIMESTAMP, NULL when it does not read as one."""
        ...

    def now_local(self) -> str:
        """The local time as a timestamp without time zone."""
        ...

    def row_json_without(self, alias: str, columns: list[str]) -> str:
        """A row of the relation `alias` as a JSON object, without `columns`."""
        ...

    def tables_with_column(self, column: str) -> tuple[str, dict[str, Any]]:
        """(SQL, params) listing the names of the database's own tables (not temporary) that have `column`."""
        ...

    def upsert(self, table: str, columns: list[str], key: list[str]) -> str:
        """An INSERT of one row of `columns` (as $column placeholders) replacing the row with the same `key`."""
        ...

    def lower(self, text: str) -> str:
        """`text` lower-cased, every letter (PostgreSQL's lower() follows the database's LC_CTYPE: not under C)."""
        ...

    def split_words(self, text: str) -> str:
        """A list of the lower-cased runs of letters and digits of `text` (empty strings where separators lead or
        trail): the words of the search index (core/views/search_index.py)."""
        ...

    def list_of(self, items: list[str]) -> str:
        """A list of these expressions (DuckDB `[a, b]`, PostgreSQL `ARRAY[a, b]`)."""
        ...

    def grams(self, text: str, size: int) -> str:
        """SQL: the list of the distinct substrings of `size` characters of `text` (none when it is shorter)."""
        ...

    def integer_range(self, start: str, stop: str) -> str:
        """A table function of the integers from `start` up to `stop`, excluded (name its column: `AS r(i)`)."""
        ...

    def mode(self, expression: str) -> str:
        """An aggregate: the most frequent non-NULL value of `expression` (ties: either store picks one)."""
        ...

    def database_file_sql(self) -> str:
        """SQL: one row, the path of the database's file; NULL for an in-memory DuckDB and for PostgreSQL (a
        server other processes write to: nothing may be kept on this process's write stamps alone)."""
        ...

    def database_identity_sql(self) -> str:
        """SQL: one row naming this database among those this process opens, for what is kept until the database's
        next write (core.stamps.contacts_stamp moves with every app process's writes): the file's path (NULL for an
        in-memory DuckDB: nothing kept); on PostgreSQL the database's OID and the server's start, so a database
        dropped and made again under its name (its write stamps starting over) is another one."""
        ...

    def storage_order(self, alias: str) -> str:
        """An expression ordering the rows of the table `alias` as they are stored (an UPDATE reading its rows in
        that order touches the storage in one pass: many times faster on DuckDB)."""
        ...

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object of (key, SQL expression) pairs; the keys are constants of the code, never user values."""
        ...

    def record_list_agg(self, fields: list[str], order_by: str, where: str) -> str:
        """An aggregate: the rows matching `where`, in `order_by` order, as a list of records of `fields` (text
        columns). DuckDB answers a list of structs; PostgreSQL a JSON array, read as text: a String column to
        decode with Polars' `str.json_decode` (core.exporting.export_frame)."""
        ...

    def empty_record_list(self, fields: list[str]) -> str:
        """An empty list of records of `fields` (text columns), typed as `record_list_agg` answers."""
        ...

    def nth_in_order(self, expression: str, position: str, descending: bool) -> str:
        """An aggregate: the `position`-th (from 1) non-null value of `expression` sorted ascending or descending, NULL
        past the last (DuckDB min/max(x, n): a bounded heap, no sort of the whole input; position under 1,000,000)."""
        ...

    def estimated_rows_sql(self, query: str) -> str | None:
        """A statement whose one row and column is the planner's estimate of how many rows `query` returns, as
        JSON (PostgreSQL's EXPLAIN); None where the store gives none and counts are always exact (DuckDB)."""
        ...

    def sampled_count_sql(self, table: str, alias: str, where: str, percent: float) -> str | None:
        """A count of the rows of `table` (as `alias`) meeting `where` in a fixed sample of about `percent` of its
        pages, the same sample each time (PostgreSQL TABLESAMPLE SYSTEM ... REPEATABLE); None where counts are
        always exact (DuckDB)."""
        ...

    def mark_join(self, condition: str) -> str:
        """`condition` (an IN over a subquery) in the form the store joins best for a list page: DuckDB keeps it a
        mark join with IS TRUE (core.views.search.indexed_search_condition); PostgreSQL plans the plain IN as a
        semi-join whose row estimate it knows (IS TRUE there is a filter estimated at half the table)."""
        ...

    def held_by(self, key: str, rows: str, row_key: str) -> str:
        """Whether `key` (a column of the outer row) is among the `row_key`s of `rows` ("FROM ... WHERE ...", its
        table aliased, ending with its WHERE condition), where the test may sit under an OR (no semi-join then):
        DuckDB an IN, hashed once (its joins spill); PostgreSQL a correlated EXISTS. PostgreSQL hashes an IN under
        an OR only while the set fits in hash_mem, and past it tests every outer row against the whole set: with
        work_mem at its 4 MB default and 200,000 rows held among 2,000,000 contacts a count ran past 2 minutes
        (50,000: 0.26 s). Its EXISTS is hashed where that is cheaper and fits, else one index probe per row."""
        ...

    def insert_order(self, columns: str) -> str:
        """A clause ending an INSERT ... SELECT into a table with b-tree indexes: ` ORDER BY columns` (the leading
        index's key) on PostgreSQL, whose b-tree takes entries in key order about twice as fast (the 599,400
        search postings of a 100,000-row import: 4.3-5.0 s -> 2.3-2.5 s); nothing on DuckDB, whose statements
        stay as they were."""
        ...

    def session_lock(self, take: bool) -> str:
        """The statement that takes (or, `take` false, releases) this session's lock on the key `(?, ?)` (two
        integers), held until released or the session ends: how app processes sharing a database tell which of
        them is alive (core.jobs). Only stores several processes write (not one_writer_process) have one."""
        ...

    def session_lock_held(self, lock: str, key: str) -> str:
        """A condition: some live session holds the session lock `(lock, key)` (SQL expressions) on this database."""
        ...

    def table_statistics(self, table: str) -> str:
        """The statement that gathers the planner's statistics of a temporary table just filled (core.db.scratch):
        PostgreSQL's ANALYZE (autovacuum never analyzes temporary tables: without statistics the 200,000 terms of a
        100,000-row import were looked up one by one through an index, 2.3 s, instead of hashed, 1.1 s); nothing on
        DuckDB ("")."""
        ...

    def secondary_indexes_sql(self, table: str) -> str | None:
        """A query of (name, CREATE INDEX statement) of each index of `table` (a name from the code) that backs no
        constraint, for a batch much larger than the table to drop them and build them after its rows
        (core.db.bulk: PostgreSQL builds an index of 6,000,000 postings in about 1 s of CPU, where keeping it entry
        by entry took 11); None where indexes are kept as they are (DuckDB)."""
        ...

    def local_setting(self) -> str | None:
        """A statement setting the planner setting `$name` to `$value` until the transaction ends, returning its
        value before (PostgreSQL: set_config local to the transaction; core.db.bulk.planner_settings); None where
        the store has no such settings (DuckDB)."""
        ...

    def few_groups_key(self, expression: str, name: str) -> tuple[str, str]:
        """A grouping key of few values computed from columns of many (a phone's calling-code prefix): (a FROM
        item to add after the table, SQL naming the key). PostgreSQL estimates such an expression's groups as its
        columns' distinct values (3.7 million for the prefix at 10,000,000 contacts), so it sorted every row
        instead of hashing a few dozen groups; the key computed in a lateral subquery it cannot pull up (OFFSET 0)
        gets the default estimate. DuckDB keeps it inline ("", the expression): its lateral join is 7-10x slower."""
        ...


def _upsert(table: str, columns: list[str], key: list[str]) -> str:
    updates = [column for column in columns if column not in key]
    action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates) if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('$' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) {action}"
    )


class DuckDBDialect:
    """DuckDB 2.0.1."""

    name = "duckdb"
    one_writer_process = True
    threads_setting: str | None = "threads"
    rewrites_list_updates = True
    pages_by_index = False
    terms_by_like = False
    reads_at_once = False

    def list_agg(self, expression: str, order_by: str = "") -> str:
        return f"list({expression}{' ORDER BY ' + order_by if order_by else ''})"

    def list_position(self, items: str, item: str) -> str:
        return f"list_position({items}, {item})"

    def list_contains(self, items: str, item: str) -> str:
        return f"list_contains({items}, {item})"

    def list_length(self, items: str) -> str:
        return f"len({items})"

    def empty_list(self) -> str:
        return "[]::VARCHAR[]"

    def list_concat_new(self, items: str, added: str) -> str:
        return f"list_concat({items}, list_filter({added}, lambda x: NOT list_contains({items}, x)))"

    def list_without(self, items: str, removed: str) -> str:
        return f"list_filter({items}, lambda t: NOT list_contains({removed}, t))"

    def list_has_all(self, items: str, wanted: str) -> str:
        return f"list_has_all({items}, {wanted})"

    def list_has_any(self, items: str, wanted: str) -> str:
        return f"list_has_any({items}, {wanted})"

    def items_once(self, table: str, items: str, where: str) -> str:
        return f"(SELECT unnest(list_distinct({items})) AS item FROM {table} WHERE {where} AND len({items}) > 0)"

    def contains(self, text: str, part: str) -> str:
        return f"contains({text}, {part})"

    def regexp_matches(self, text: str, pattern: str, ignore_case: bool = False) -> str:
        flags = ", 'i'" if ignore_case else ""
        return f"regexp_matches({text}, {pattern}{flags})"

    def try_cast(self, expression: str, type_name: str) -> str:
        return f"TRY_CAST({expression} AS {_checked_type(type_name)})"

    def now_local(self) -> str:
        return "current_localtimestamp()"

    def row_json_without(self, alias: str, columns: list[str]) -> str:
        found = f"to_json({alias})"
        for column in columns:  # DuckDB's json_remove takes one path
            found = f"json_remove({found}, '$.{column}')"
        return found

    def tables_with_column(self, column: str) -> tuple[str, dict[str, Any]]:
        return (
            "SELECT DISTINCT t.table_name FROM duckdb_tables() t JOIN duckdb_columns() c "
            "USING (database_name, schema_name, table_name) WHERE c.column_name = $column AND NOT t.temporary "
            "AND t.database_name = current_database() AND t.schema_name = 'main' ORDER BY t.table_name",
            {"column": column},
        )

    def upsert(self, table: str, columns: list[str], key: list[str]) -> str:
        return _upsert(table, columns, key)

    def lower(self, text: str) -> str:
        return f"lower({text})"

    def split_words(self, text: str) -> str:
        return f"regexp_split_to_array(lower({text}), '{WORD_SEPARATORS}')"

    def list_of(self, items: list[str]) -> str:
        return f"[{', '.join(items)}]"

    def grams(self, text: str, size: int) -> str:
        return f"list_distinct([substr({text}, i, {size}) for i in range(1, length({text}) - {size - 2})])"

    def integer_range(self, start: str, stop: str) -> str:
        return f"range({start}, {stop})"

    def mode(self, expression: str) -> str:
        return f"mode({expression})"

    def database_file_sql(self) -> str:
        return "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"

    def database_identity_sql(self) -> str:
        return self.database_file_sql()

    def storage_order(self, alias: str) -> str:
        return f"{alias}.rowid"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        return "to_json({" + ", ".join(f"'{_json_key(key)}': {value}" for key, value in pairs) + "})"

    def record_list_agg(self, fields: list[str], order_by: str, where: str) -> str:
        record = "{" + ", ".join(f"'{_json_key(field)}': {field}" for field in fields) + "}"
        return f"list({record} ORDER BY {order_by}) FILTER (WHERE {where})"

    def empty_record_list(self, fields: list[str]) -> str:
        return f"[]::STRUCT({', '.join(f'{_json_key(field)} VARCHAR' for field in fields)})[]"

    def nth_in_order(self, expression: str, position: str, descending: bool) -> str:
        return f"{'max' if descending else 'min'}({expression}, {position})[{position}]"

    def estimated_rows_sql(self, query: str) -> str | None:
        return None

    def sampled_count_sql(self, table: str, alias: str, where: str, percent: float) -> str | None:
        return None

    def mark_join(self, condition: str) -> str:
        return f"(({condition}) IS TRUE)"

    def held_by(self, key: str, rows: str, row_key: str) -> str:
        return f"{key} IN (SELECT {row_key} {rows})"

    def insert_order(self, columns: str) -> str:
        return ""

    def session_lock(self, take: bool) -> str:
        raise ValueError("one process writes a DuckDB file: it needs no session locks")

    def session_lock_held(self, lock: str, key: str) -> str:
        raise ValueError("one process writes a DuckDB file: it needs no session locks")

    def table_statistics(self, table: str) -> str:
        return ""

    def secondary_indexes_sql(self, table: str) -> str | None:
        return None

    def local_setting(self) -> str | None:
        return None

    def few_groups_key(self, expression: str, name: str) -> tuple[str, str]:
        return "", expression


_KEY = re.compile(r"^[a-z_][a-z0-9_ ]*$")


def _json_key(key: str) -> str:
    """A record's field name or a JSON key, checked: written into SQL as it is."""
    if not _KEY.match(key):
        raise ValueError(f"not a plain key: {key!r}")
    return key


# Text that reads as a number, or as an ISO date and time, the way DuckDB's TRY_CAST accepts them.
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_TIMESTAMP = r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked_name(name: str) -> str:
    """A table's name, checked: written into SQL as it is."""
    if not _NAME.match(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


def _checked_type(type_name: str) -> str:
    kind = type_name.upper()
    if kind not in ("DOUBLE", "TIMESTAMP"):
        raise ValueError(f"try_cast reads DOUBLE or TIMESTAMP, not {type_name}")
    return kind


class PostgresDialect:
    """PostgreSQL 15."""

    name = "postgres"
    one_writer_process = False
    threads_setting: str | None = None
    rewrites_list_updates = False
    pages_by_index = True
    terms_by_like = True
    reads_at_once = True

    def list_agg(self, expression: str, order_by: str = "") -> str:
        return f"array_agg({expression}{' ORDER BY ' + order_by if order_by else ''})"

    def list_position(self, items: str, item: str) -> str:
        return f"array_position({items}, {item})"

    def list_contains(self, items: str, item: str) -> str:
        return f"({item} = ANY({items}))"

    def list_length(self, items: str) -> str:
        return f"cardinality({items})"

    def empty_list(self) -> str:
        return "ARRAY[]::text[]"

    def list_concat_new(self, items: str, added: str) -> str:
        kept = f"SELECT x FROM unnest({added}) WITH ORDINALITY AS added(x, i) WHERE NOT (x = ANY({items})) ORDER BY i"
        return f"array_cat({items}, ARRAY({kept}))"

    def list_without(self, items: str, removed: str) -> str:
        kept = f"SELECT t FROM unnest({items}) WITH ORDINALITY AS kept(t, i) WHERE NOT (t = ANY({removed})) ORDER BY i"
        return f"ARRAY({kept})"

    # @> and && want one array type on both sides: contacts.tags is varchar[], a list parameter text[]
    def list_has_all(self, items: str, wanted: str) -> str:
        return f"(CAST({items} AS text[]) @> CAST({wanted} AS text[]))"

    def list_has_any(self, items: str, wanted: str) -> str:
        return f"(CAST({items} AS text[]) && CAST({wanted} AS text[]))"

    def items_once(self, table: str, items: str, where: str) -> str:
        return (
            f"(SELECT held.item FROM {table}, unnest({items}) WITH ORDINALITY AS held(item, place) "
            f"WHERE {where} AND array_position({items}, held.item) = held.place)"
        )

    def contains(self, text: str, part: str) -> str:
        return f"(strpos({text}, {part}) > 0)"

    def regexp_matches(self, text: str, pattern: str, ignore_case: bool = False) -> str:
        return f"({text} {'~*' if ignore_case else '~'} {pattern})"

    def try_cast(self, expression: str, type_name: str) -> str:
        # A bad value reads as NULL, never an error; a well-formed but impossible date (2024-02-30) still errors.
        if _checked_type(type_name) == "DOUBLE":
            return f"(CASE WHEN {expression} ~ '{_NUMBER}' THEN CAST({expression} AS double precision) END)"
        return f"(CASE WHEN {expression} ~ '{_TIMESTAMP}' THEN CAST({expression} AS timestamp) END)"

    def now_local(self) -> str:
        return "LOCALTIMESTAMP"

    def row_json_without(self, alias: str, columns: list[str]) -> str:
        removed = "".join(f" - '{column}'" for column in columns)
        return f"(to_jsonb({alias}){removed})::json"

    def tables_with_column(self, column: str) -> tuple[str, dict[str, Any]]:
        return (
            "SELECT DISTINCT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.column_name = $column AND c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name",
            {"column": column},
        )

    def upsert(self, table: str, columns: list[str], key: list[str]) -> str:
        return _upsert(table, columns, key)

    def lower(self, text: str) -> str:
        return f"unicode_lower({text})"  # migration 016's PostgreSQL twin: lower() under the ICU root collation

    def split_words(self, text: str) -> str:
        return f"search_words({text})"  # migration 016's PostgreSQL twin: ICU letters and digits

    def list_of(self, items: list[str]) -> str:
        return f"ARRAY[{', '.join(items)}]"

    def grams(self, text: str, size: int) -> str:
        positions = f"generate_series(1, length({text}) - {size - 1}) AS i"
        return f"ARRAY(SELECT DISTINCT substr({text}, i, {size}) FROM {positions})"

    def integer_range(self, start: str, stop: str) -> str:
        return f"generate_series({start}, ({stop}) - 1)"

    def mode(self, expression: str) -> str:
        return f"mode() WITHIN GROUP (ORDER BY {expression})"

    def database_file_sql(self) -> str:
        return "SELECT CAST(NULL AS text)"

    def database_identity_sql(self) -> str:
        return (
            "SELECT 'postgresql:' || current_database() || ':' || d.oid || ':' || pg_postmaster_start_time() "
            "FROM pg_database d WHERE d.datname = current_database()"
        )

    def storage_order(self, alias: str) -> str:
        return f"{alias}.ctid"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"'{_json_key(key)}', {value}" for key, value in pairs) + ")"

    def record_list_agg(self, fields: list[str], order_by: str, where: str) -> str:
        record = self.json_object([(field, field) for field in fields])
        return f"json_agg({record} ORDER BY {order_by}) FILTER (WHERE {where})"

    def empty_record_list(self, fields: list[str]) -> str:
        return "CAST('[]' AS json)"

    def nth_in_order(self, expression: str, position: str, descending: bool) -> str:
        order = f"{expression}{' DESC' if descending else ''}"
        return f"(array_agg({expression} ORDER BY {order}) FILTER (WHERE {expression} IS NOT NULL))[{position}]"

    def estimated_rows_sql(self, query: str) -> str | None:
        return f"EXPLAIN (FORMAT JSON) {query}"

    def sampled_count_sql(self, table: str, alias: str, where: str, percent: float) -> str | None:
        return (
            f"SELECT count(*) FROM {table} {alias} TABLESAMPLE SYSTEM ({float(percent)}) REPEATABLE (16) WHERE {where}"
        )

    def mark_join(self, condition: str) -> str:
        return f"({condition})"

    def held_by(self, key: str, rows: str, row_key: str) -> str:
        return f"EXISTS (SELECT 1 {rows} AND {row_key} = {key})"

    def insert_order(self, columns: str) -> str:
        return f" ORDER BY {columns}"

    def session_lock(self, take: bool) -> str:
        return f"SELECT pg_advisory_{'lock' if take else 'unlock'}(?, CAST(? AS integer))"

    def session_lock_held(self, lock: str, key: str) -> str:
        # A two-integer advisory key shows in pg_locks as classid, objid, objsubid 2.
        return (
            f"EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {lock} "
            f"AND CAST(l.objid AS bigint) = {key} AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        )

    def table_statistics(self, table: str) -> str:
        # A sample of 3,000 rows, not 30,000: enough for the row counts and spreads a join's plan needs, and
        # the wide staged rows of a 100,000-row import take 60 ms instead of 1.4 s.
        return f"SET default_statistics_target = 10; ANALYZE {table}; RESET default_statistics_target"

    def secondary_indexes_sql(self, table: str) -> str | None:
        return (
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            f"WHERE x.indrelid = to_regclass('{_checked_name(table)}') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid) ORDER BY i.relname"
        )

    def local_setting(self) -> str | None:
        return "SELECT current_setting($name), set_config($name, $value, true)"

    def few_groups_key(self, expression: str, name: str) -> tuple[str, str]:
        return f" CROSS JOIN LATERAL (SELECT {expression} AS {name} OFFSET 0) {name}_key", f"{name}_key.{name}"


DUCKDB = DuckDBDialect()
POSTGRES = PostgresDialect()


def dialect(con: object) -> Dialect:
    """The dialect of a connection (a DuckDB connection or cursor, or a core.db.postgres.PostgresConnection)."""
    return POSTGRES if getattr(con, "dialect_name", "duckdb") == "postgres" else DUCKDB


# DuckDB type names and defaults in migrations that PostgreSQL spells differently; anything beyond these small
# spellings gets a NNN_name.postgres.sql of its own (core.db.connection.migration_files).
_MIGRATION_SPELLINGS = [
    (re.compile(r"\bDOUBLE\b(?!\s+PRECISION)", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bU?HUGEINT\b", re.IGNORECASE), "NUMERIC(39, 0)"),
    (re.compile(r"\bDEFAULT\s+\[\]"), "DEFAULT '{}'"),
    (re.compile(r"\bcurrent_localtimestamp\(\)", re.IGNORECASE), "LOCALTIMESTAMP"),
]


def postgres_migration(sql: str) -> str:
    """A DuckDB migration with the type names and defaults PostgreSQL spells differently respelled."""
    for pattern, spelling in _MIGRATION_SPELLINGS:
        sql = pattern.sub(spelling, sql)
    return sql
