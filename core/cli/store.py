"""`python -m core migrate-store`: move a workspace from its DuckDB file to PostgreSQL."""

import argparse

from core.cli.common import Adder, print_json


def command_migrate_store(args: argparse.Namespace) -> int:
    from core.db.migrate_store import migrate_store

    print_json(migrate_store(args.source, args.target).model_dump())
    return 0


def register(add: Adder) -> None:
    """Add `migrate-store` to the main parser."""
    migrate = add(
        "migrate-store",
        command_migrate_store,
        "Copy every table of a DuckDB workspace file into a new, empty PostgreSQL database (one transaction, "
        "row counts checked); then point CONTACTS_DB at the URL.",
    )
    migrate.add_argument("--from", dest="source", required=True, help="the DuckDB file (the app must be stopped)")
    migrate.add_argument("--to", dest="target", required=True, help="postgresql://user[:password]@host/database")
