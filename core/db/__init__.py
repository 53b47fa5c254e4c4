"""The database layer: opening and migrating a database, transactions, query helpers and scratch relations."""

from core.db.connection import (
    Params,
    apply_migrations,
    conflicts_as_stale,
    constants,
    frame,
    migration_files,
    open_database,
    rows,
    scalar,
    transaction,
)
from core.db.scratch import Scratch, scratch, scratch_ids

__all__ = [
    "Params",
    "Scratch",
    "apply_migrations",
    "conflicts_as_stale",
    "constants",
    "frame",
    "migration_files",
    "open_database",
    "rows",
    "scalar",
    "scratch",
    "scratch_ids",
    "transaction",
]
