"""Large batches into indexed tables: a table's indexes built once after the batch's rows instead of kept entry by
entry, where the store gains by it and the batch is at least as large as the table (issue 16 point 5).

On PostgreSQL a b-tree kept row by row costs far more than one built at once: the 6,000,000 search postings of a
1,000,000-row import took 17.7 s of server CPU into a table with its two indexes, 1.9 s into the bare table and
2.0 s more to build both indexes after (sorted input; 11 s of the 17.7 were the index whose key came in random
order). The price is the lock: dropping an index locks its table until the transaction ends, so the searches of
other sessions wait for the batch's transaction (the importer refreshes the search index last, so they wait for its
last seconds; an import bringing more new contacts than the workspace holds locks contacts from its insert on, so
every page waits for the whole import). Hence only for a batch at least as large as the table holds (the first
import into a workspace, an import that more than doubles it) and of at least MIN_ROWS rows; and the lock is taken
only when the table is free (never waited for: see _locked_without_waiting), else the indexes are kept. DuckDB keeps
its indexes as they are.
"""

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from core.db.connection import Connection, Params, is_database_error, rows, scalar
from core.db.dialect import dialect
from core.db.scratch import Scratch, scratch

MIN_ROWS = 50_000  # a smaller batch never locks a table for its indexes: kept entry by entry it costs little
JOIN_SETTINGS = ("enable_nestloop", "enable_mergejoin")  # off while the batch is written (PostgreSQL's planner)
# The memory each index build sorts in (PostgreSQL's maintenance_work_mem, shared by the build's parallel workers):
# smaller runs that fit the processor's caches sorted faster than one large sort. The 3,000,000 typo-search holders
# of a 1,000,000-row import, two workers: 4.5 s at 512 MB, 3.5 s at 96-128 MB; the 6,000,000 postings 2.6 -> 2.2 s.
INDEX_BUILD_MEMORY = "128MB"
LOCK_TRIES_SECONDS = 30.0  # how long the lock on a table is tried for, before its indexes are kept instead


def rebuilds_indexes(con: Connection, table: str, batch: Scratch | int) -> bool:
    """Whether the rows of `batch` (a relation, or how many rows) written into `table` (a name from the code) are best
    written with the table's indexes built after them: the store builds rather than keeps (PostgreSQL; nothing is
    counted on DuckDB), the batch holds at least MIN_ROWS rows and the table fewer rows than the batch (counted up to
    the batch's size, so a large table is not counted whole)."""
    if dialect(con).secondary_indexes_sql(table) is None:
        return False
    adding = batch if isinstance(batch, int) else int(scalar(con, f"SELECT count(*) FROM {batch}") or 0)
    if adding < MIN_ROWS:
        return False
    held = scalar(con, f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT $adding) held", {"adding": adding})
    return int(held or 0) < adding


def _locked_without_waiting(con: Connection, table: str) -> bool:
    """Take the lock that dropping an index needs on `table` (PostgreSQL: ACCESS EXCLUSIVE), never waiting for it: a
    try that finds the table in use is undone (a savepoint) and tried again a little later, for LOCK_TRIES_SECONDS.
    An import that waited for a lock while holding others (the search tables' locks, taken one after another) could
    close a cycle with a session reading or writing two of them, and PostgreSQL would end one of the two: perhaps
    the import, after all its work. So it never waits: False when the table stayed in use."""
    deadline = time.monotonic() + LOCK_TRIES_SECONDS
    pause = 0.02
    while True:
        con.execute("SAVEPOINT bulk_lock")
        try:
            con.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT")
        except Exception as error:
            if not is_database_error(error):
                raise
            con.execute("ROLLBACK TO SAVEPOINT bulk_lock")
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
            continue
        con.execute("RELEASE SAVEPOINT bulk_lock")
        return True


@contextmanager
def indexes_built_after(con: Connection, table: str, rebuild: bool) -> Iterator[None]:
    """Inside the caller's transaction: when `rebuild` (see rebuilds_indexes), drop the indexes of `table` that back
    no constraint, let the caller write its rows (its joins planned as hash joins), then create them again as they
    were; else leave them alone."""
    listed = dialect(con).secondary_indexes_sql(table) if rebuild else None
    indexes = rows(con, listed) if listed else []
    if not indexes:
        yield
        return
    if not _locked_without_waiting(con, table):
        yield  # other sessions kept reading it: the rows go in with the indexes kept
        return
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    # The batch's statements join large sets, best by hashing; estimated from fresh scratch tables and tables filled in
    # this transaction, the planner took a nested loop of 2,000,000 index lookups for the postings' terms (17 s of
    # server CPU where a hash join takes 5).
    with planner_settings(con, dict.fromkeys(JOIN_SETTINGS, "off")):
        yield
    with planner_settings(con, {"maintenance_work_mem": INDEX_BUILD_MEMORY}):
        for _, definition in indexes:
            con.execute(definition)


@contextmanager
def planner_settings(con: Connection, settings: dict[str, str]) -> Iterator[None]:
    """Inside the caller's transaction: the store's planner `settings` (name -> value) for the block's statements,
    then back to what they were; nothing on a store without such settings (DuckDB)."""
    statement = dialect(con).local_setting()
    if statement is None:
        yield
        return
    before = {name: rows(con, statement, {"name": name, "value": value})[0][0] for name, value in settings.items()}
    yield
    for name, value in before.items():
        con.execute(statement, {"name": name, "value": value})


@contextmanager
def sorted_distinct(con: Connection, select: str, params: Params = None) -> Iterator[Scratch]:
    """A scratch relation (core.db.scratch) of `select`, a SELECT DISTINCT whose first column is an integer key
    (row_key), its rows made distinct by sorting rather than by hashing where the store lets the caller choose
    (PostgreSQL, whose estimate for unnested words is a guess, so it hashes): the 5,000,000 (row_key, term) rows of
    1,000,000 contacts' names and emails took 4.4 s of server CPU so, 8.0 s hashed, split alike (a hash table of
    millions of groups spills; sorted, the integer key decides most comparisons: lead with it)."""
    with ExitStack() as stack:
        with planner_settings(con, {"enable_hashagg": "off"}):
            made = stack.enter_context(scratch(con, select, params))
        yield made
