"""The command line: JSON on stdout, a one-line message and a non-zero exit on error.

Each module here registers one group of commands; `common` holds what they share.
"""

import argparse
import sys

import duckdb

from core.cli import channels, demo, duplicates, files, setup, views
from core.cli.common import Handler
from core.config import database_path
from core.errors import ContactsError


def build_parser() -> argparse.ArgumentParser:
    """The `python -m core` parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Contacts workspace: command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", default=str(database_path()), help="database file (default: $CONTACTS_DB)")
        sub.set_defaults(handler=handler)
        return sub

    for group in (setup, demo, views, files, channels, duplicates):
        group.register(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 only on success."""
    args = build_parser().parse_args(argv)
    try:
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
