"""The command line: JSON on stdout, a one-line message and a non-zero exit on error."""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from core.config import current_user, database_path
from core.db import open_database
from core.errors import ContactsError
from core.queries import ListView, list_contacts


def _print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def command_demo(args: argparse.Namespace) -> int:
    from core.demo import generate_demo

    if Path(args.db).exists() and not args.force:
        raise ContactsError(f"{args.db} already exists; pass --force to add demo data to it anyway.")
    con = open_database(args.db)
    summary = generate_demo(con, contacts=args.contacts, seed=args.seed)
    con.close()
    _print_json(summary.model_dump())
    return 0


def open_existing(path: str) -> duckdb.DuckDBPyConnection:
    """Open a database that must already exist (a typo in --db should not create an empty one)."""
    if path != ":memory:" and not Path(path).exists():
        raise ContactsError(f"There is no database at {path}; create one with `python -m core demo --db {path}`.")
    return open_database(path)


def command_search(args: argparse.Namespace) -> int:
    con = open_existing(args.db)
    view = ListView(segment=args.segment, search=args.query, page_size=args.limit, columns=args.columns)
    page = list_contacts(con, view, args.user)
    _print_json({"total": page.total, "contacts": page.rows.to_dicts()})
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Contacts workspace: command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", default=str(database_path()), help="database file (default: $CONTACTS_DB)")
        sub.set_defaults(handler=handler)
        return sub

    demo = add("demo", command_demo, "Create a database filled with realistic demo contacts.")
    demo.add_argument("--contacts", type=int, default=5000, help="how many contacts (default 5000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed, for a reproducible database")
    demo.add_argument("--force", action="store_true", help="add to an existing database")

    search = add("search", command_search, "Search contacts inside a segment; prints {total, contacts}.")
    search.add_argument("query", help="text to find in names, email, phone and custom fields")
    search.add_argument("--segment", default="all", help="segment key or name (default: All contacts)")
    search.add_argument("--limit", type=int, default=50, help="contacts to print (default 50); total counts all")
    search.add_argument("--user", default=current_user(), help="whose 'My contacts' (default: $CONTACTS_USER)")
    search.add_argument(
        "--columns",
        nargs="+",
        default=["first_name", "last_name", "email", "phone", "lead_stage", "owner_id", "tags"],
        help="fields to print",
    )
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
