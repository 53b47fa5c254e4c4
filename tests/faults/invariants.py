"""What must hold in a contacts database after any fault: it opens, nothing points at a missing contact,
versions are sane, and (for a killed run) the counts are all-before or all-after."""

from pathlib import Path

import duckdb

from core.db import open_database

# Tables that may name a contact that is gone: the deletion log is the record of it.
NOT_BELONGING = ("contacts", "deletion_log")


def tables_with_contacts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every stored table with a contact_id column, but the contacts themselves and the deletion log."""
    found = con.execute(
        "SELECT DISTINCT t.table_name FROM duckdb_tables() t JOIN duckdb_columns() c "
        "USING (database_name, schema_name, table_name) WHERE c.column_name = 'contact_id' AND NOT t.temporary "
        "AND t.database_name = current_database() ORDER BY 1"
    ).fetchall()
    return [table for (table,) in found if table not in NOT_BELONGING]


def orphans(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Per table, the rows whose contact does not exist (only tables that have some)."""
    counts = {}
    for table in tables_with_contacts(con):
        missing = con.execute(
            f"SELECT count(*) FROM {table} t "
            "WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.contact_id = t.contact_id)"
        ).fetchall()[0][0]
        if missing:
            counts[table] = missing
    if "demo_truth" in counts:  # ground truth for the duplicates bench: it outlives the contacts it names
        counts.pop("demo_truth")
    return counts


def version_problems(con: duckdb.DuckDBPyConnection) -> int:
    """Contacts whose version is below 1, or (never merged: a merge brings the others' history along) below
    1 + the number of changes their activity holds: every logged change bumped the version."""
    return con.execute(
        "SELECT count(*) FROM contacts c WHERE c.version < 1 OR c.touches < 0 OR ("
        "NOT EXISTS (SELECT 1 FROM activity a WHERE a.contact_id = c.contact_id AND a.action = 'merged') "
        "AND c.version < 1 + (SELECT count(*) FROM activity a WHERE a.contact_id = c.contact_id "
        "AND a.action IN ('updated', 'blocked', 'unblocked', 'tags added', 'tags removed')))"
    ).fetchall()[0][0]


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table that holds contacts' data (what a killed run must leave all-before or all-after)."""
    return {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        for table in ("contacts", *tables_with_contacts(con), "deletion_log")
    }


def check(path: str | Path | duckdb.DuckDBPyConnection) -> list[str]:
    """Every broken invariant, as readable lines (empty when all hold). Opens the database when given a path."""
    own = not isinstance(path, duckdb.DuckDBPyConnection)
    try:
        con = open_database(path) if own else path  # type: ignore[arg-type]
    except Exception as error:  # the first invariant: the database opens
        return [f"the database does not open: {error}"]
    try:
        problems = [f"{n} rows of {table} point at a missing contact" for table, n in orphans(con).items()]
        if bad := version_problems(con):
            problems.append(f"{bad} contacts have a version below their updates")
        return problems
    finally:
        if own:
            con.close()
