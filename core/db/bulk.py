"""Large batches into indexed tables: a table's indexes built once after the batch's rows instead of kept entry by
entry, where the store gains by it and the batch is at least as large as the table (issue 16 point 5).

On PostgreSQL a b-tree kept row by row costs far more than one built at once: the 6,000,000 search postings of a
1,000,000-row import took 17.7 s of server CPU into a table with its two indexes, 1.9 s into the bare table and
2.0 s more to build both indexes after (sorted input; 11 s of the 17.7 were the index whose key came in random
order). The price is the lock: dropping an index locks its table until the transaction ends, so the searches of
other sessions wait for the batch's transaction (the importer refreshes the search index last, so they wait for its
last seconds). Hence only for a batch at least as large as the table holds (the first import into a workspace, an
import that more than doubles it) and of at least MIN_ROWS rows. DuckDB keeps its indexes as they are.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from core.db.connection import Connection, rows, scalar
from core.db.dialect import dialect
from core.db.scratch import Scratch

MIN_ROWS = 50_000  # a smaller batch never locks a table for its indexes: kept entry by entry it costs little
JOIN_SETTINGS = ("enable_nestloop", "enable_mergejoin")  # off while the batch is written (PostgreSQL's planner)
LOCK_WAIT = "60s"  # how long the drop waits for other sessions' reads of the table (the session's own is 2 s)


def rebuilds_indexes(con: Connection, table: str, batch: Scratch) -> bool:
    """Whether the rows of `batch` (a relation) written into `table` (a name from the code) are best written with the
    table's indexes built after them: the store builds rather than keeps (PostgreSQL; nothing is counted on DuckDB),
    the batch holds at least MIN_ROWS rows and the table fewer rows than the batch (counted up to the batch's size,
    so a large table is not counted whole)."""
    if dialect(con).secondary_indexes_sql(table) is None:
        return False
    adding = int(scalar(con, f"SELECT count(*) FROM {batch}") or 0)
    if adding < MIN_ROWS:
        return False
    held = scalar(con, f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT $adding) held", {"adding": adding})
    return int(held or 0) < adding


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
    # PostgreSQL only (secondary_indexes_sql is None elsewhere): wait for reads in progress longer than the
    # session's lock timeout, then go back to it for the rest of the transaction.
    kept = scalar(con, "SELECT current_setting('lock_timeout')")
    con.execute("SELECT set_config('lock_timeout', $wait, true)", {"wait": LOCK_WAIT})
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    con.execute("SELECT set_config('lock_timeout', $kept, true)", {"kept": kept})
    # The batch's statements join large sets, best by hashing; estimated from fresh scratch tables and tables filled in
    # this transaction, the planner took a nested loop of 2,000,000 index lookups for the postings' terms (17 s of
    # server CPU where a hash join takes 5).
    for setting in JOIN_SETTINGS:
        con.execute("SELECT set_config($name, 'off', true)", {"name": setting})
    yield
    for setting in JOIN_SETTINGS:
        con.execute("SELECT set_config($name, 'on', true)", {"name": setting})
    for _, definition in indexes:
        con.execute(definition)
