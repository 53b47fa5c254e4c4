"""What duplicate detection reads, and where it runs.

Detection is DuckDB SQL (macros, list functions, Jaro-Winkler). On a DuckDB store it runs on the store's own
connection. On PostgreSQL it runs in an in-process DuckDB holding Arrow extracts of just the columns it reads
(core.db.extract), and its results are written back to the store by the caller, in one transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from core.contacts.custom_values import value_column
from core.db import rows
from core.db.extract import analytical, is_analytical

# The columns of contacts that detection's SQL reads (exact_pairs; likely's PROFILE_SQL). A column read there
# and missing here fails the duplicates tests rerun on PostgreSQL (tests/postgres/rerun/test_duplicates.py).
CONTACT_COLUMNS = (
    "contact_id",
    "first_name",
    "last_name",
    "name_generated",
    "email",
    "phone",
    "birthday",
    "postal_code",
    "city",
    "address",
    "state",
    "company",
)


def detection_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each table detection reads, as the SELECT over the store that fills its extract."""
    identity = [key for (key,) in rows(con, "SELECT key FROM custom_fields WHERE is_identity ORDER BY position")]
    values = ", ".join(["contact_id", *(value_column(key) for key in identity)])
    return {
        # In ID order: detection samples rows (training pairs), so the extract's order must not follow where
        # PostgreSQL happens to keep each row.
        "contacts": f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts ORDER BY contact_id",
        "contact_channels": "SELECT contact_id, kind, value FROM contact_channels WHERE kind IN ('email', 'phone')",
        "custom_fields": "SELECT key, label, is_identity, position FROM custom_fields",
        "custom_values": f"SELECT {values} FROM custom_values",
    }


@contextmanager
def detection_store(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The DuckDB connection detection runs on: `con` itself on DuckDB, else extracts of what it reads."""
    if is_analytical(con):
        yield con
        return
    with analytical(con, detection_tables(con)) as work:
        yield work
