"""The command line: JSON on stdout, a one-line message and a non-zero exit on error.

Each module here registers one group of commands; `common` holds what they share.
"""

import argparse
import sys

import duckdb

from core.cli import channels, demo, duplicates, files, setup, store, users, views
from core.cli.common import Handler, database_exists, require_active_user
from core.config import database_target
from core.db import open_database
from core.db.connection import is_database_error
from core.errors import ContactsError


def build_parser() -> argparse.ArgumentParser:
    """The `python -m core` parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Contacts workspace: command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--db", default=database_target(), help="database file or postgresql:// URL (default: $CONTACTS_DB)"
        )
        sub.set_defaults(handler=handler)
        return sub

    for group in (setup, demo, views, files, channels, duplicates, users, store):
        group.register(add)
    return parser


def _check_user(args: argparse.Namespace) -> None:
    """Every command with --user acts as that user: they must exist and be active in the database at --db.

    (A missing database is left to the command, which says how to create one; `users add --admin` on a
    workspace with no admin yet sets up the first one and needs nobody; a command sent to the running app
    with --url is checked there.)
    """
    if getattr(args, "user", None) is None or not database_exists(args.db):
        return
    if getattr(args, "url", None):  # sent to the running app, which holds the file and checks who acts itself
        return
    if getattr(args, "users_command", None) == "add" and args.admin:
        return
    con = open_database(args.db)
    try:
        require_active_user(con, args.user)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 only on success."""
    args = build_parser().parse_args(argv)
    try:
        _check_user(args)
        return args.handler(args)
    except ContactsError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except duckdb.Error as error:
        print(f"error: database: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    except Exception as error:
        if not is_database_error(error):  # PostgreSQL's (psycopg); programming errors stay loud
            raise
        print(f"error: database: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
