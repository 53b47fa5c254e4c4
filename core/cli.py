"""The command line: JSON on stdout, a one-line message and a non-zero exit on error."""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from core.channel_commands import add_channel_commands
from core.config import current_user, database_path
from core.db import open_database
from core.duplicate_commands import add_duplicate_commands
from core.errors import ContactsError
from core.filters import parse_filter
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
    view = ListView(
        segment=args.segment,
        search=args.query,
        page_size=args.limit,
        columns=args.columns,
        filter=parse_filter(args.filter) if args.filter else None,
    )
    page = list_contacts(con, view, args.user)
    _print_json({"total": page.total, "contacts": page.rows.to_dicts()})
    return 0


def command_bulk(args: argparse.Namespace) -> int:
    from core.bulk import Selection, run_bulk, selection_count

    action = args.action.replace("-", "_")
    if args.ids:
        selection = Selection(ids=args.ids)
    elif args.segment or args.filter:
        view = ListView(segment=args.segment or "all", filter=parse_filter(args.filter) if args.filter else None)
        selection = Selection(view=view)
    else:
        raise ContactsError("Choose the contacts with --segment, --filter or --ids.")
    con = open_existing(args.db)
    value: Any = {"add_tags": args.tags, "remove_tags": args.tags, "assign": args.owner}.get(action, args.status)
    if action == "delete":
        if not args.yes:
            raise ContactsError("Deleting is irreversible: pass --yes to confirm.")
        value = selection_count(con, selection, args.user)
    _print_json(run_bulk(con, action, selection, args.user, value).model_dump())
    return 0


def command_segments(args: argparse.Namespace) -> int:
    from core.segments import delete_segment, rename_segment, save_segment, segment_summaries

    con = open_existing(args.db)
    if args.action == "save":
        if not args.name or not args.filter:
            raise ContactsError("Saving a segment needs a NAME and --filter JSON.")
        save_segment(con, args.name, parse_filter(args.filter), args.user)
    elif args.action == "rename":
        if not args.name or not args.new_name:
            raise ContactsError("Renaming a segment needs its NAME and --to NEW_NAME.")
        rename_segment(con, args.name, args.new_name)
    elif args.action == "delete":
        if not args.name:
            raise ContactsError("Deleting a segment needs its NAME.")
        delete_segment(con, args.name)
    _print_json(segment_summaries(con, args.user).to_dicts())
    return 0


def command_import(args: argparse.Namespace) -> int:
    from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table

    path = Path(args.file)
    if not path.is_file():
        raise ContactsError(f"There is no file at {path}.")
    table = read_table(path.name, path.read_bytes())
    con = open_database(args.db)
    mapping = auto_map(con, table.headers)
    for item in args.map or []:
        column, separator, target = item.partition("=")
        if not separator:
            raise ContactsError(f"--map takes COLUMN=FIELD (FIELD empty to ignore), not '{item}'.")
        mapping[column.strip()] = target.strip()
    options = ImportOptions(mode=args.mode, mapping=mapping, tags=args.tags or [], owner_id=args.owner)
    plan = plan_import(con, table, options)
    if not args.dry_run:
        commit_import(con, plan, args.user)
    _print_json(plan.report())
    return 0


def command_export(args: argparse.Namespace) -> int:
    from core.export import FORMATS, export_view

    out = Path(args.out)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ContactsError(f"Say --format {'|'.join(FORMATS)} or name the file .csv, .xlsx or .parquet.")
    con = open_existing(args.db)
    view = ListView(
        segment=args.segment, search=args.search or "", filter=parse_filter(args.filter) if args.filter else None
    )
    data = export_view(con, view, args.user, fmt)
    out.write_bytes(data)
    _print_json({"file": str(out), "format": fmt, "bytes": len(data)})
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
    search.add_argument("--segment", default="all", help="segment key, name or saved ID (default: All contacts)")
    search.add_argument(
        "--filter",
        help='filter as JSON, e.g. \'{"conditions": [{"field": "email", "op": "contains", "value": "acme"}]}\'',
    )
    search.add_argument("--limit", type=int, default=50, help="contacts to print (default 50); total counts all")
    search.add_argument("--user", default=current_user(), help="whose 'My contacts' (default: $CONTACTS_USER)")
    search.add_argument(
        "--columns",
        nargs="+",
        default=["first_name", "last_name", "email", "phone", "lead_stage", "owner_id", "tags"],
        help="fields to print",
    )

    bulk = add("bulk", command_bulk, "Apply an action to many contacts at once; prints {action, selected, changed}.")
    bulk.add_argument(
        "action",
        choices=[
            "add-tags",
            "remove-tags",
            "assign",
            "email-subscription",
            "sms-subscription",
            "block",
            "unblock",
            "delete",
        ],
    )
    bulk.add_argument("--segment", help="every contact in this segment (key, name or saved ID)")
    bulk.add_argument("--filter", help="every contact matching this filter (JSON), within --segment if given")
    bulk.add_argument("--ids", nargs="+", help="these contact IDs")
    bulk.add_argument("--tags", nargs="+", help="tags to add or remove")
    bulk.add_argument("--owner", help="owner ID to assign ('' unassigns)")
    bulk.add_argument("--status", choices=["subscribed", "unsubscribed", "not set"], help="new subscription")
    bulk.add_argument("--yes", action="store_true", help="confirm a delete")
    bulk.add_argument("--user", default=current_user(), help="who acts (default: $CONTACTS_USER)")

    segments = add("segments", command_segments, "List saved and system segments with counts; save, rename, delete.")
    segments.add_argument("action", nargs="?", default="list", choices=["list", "save", "rename", "delete"])
    segments.add_argument("name", nargs="?", help="the segment's name (or saved ID)")
    segments.add_argument("--filter", help="the filter to save, as JSON")
    segments.add_argument("--to", dest="new_name", help="the new name when renaming")
    segments.add_argument("--user", default=current_user(), help="who acts (default: $CONTACTS_USER)")

    imports = add(
        "import",
        command_import,
        "Import contacts from a CSV or XLSX file; prints {created, updated, skipped, rejected, errors}.",
    )
    imports.add_argument("file", help="the CSV or XLSX file")
    imports.add_argument(
        "--mode",
        choices=["create", "update", "upsert"],
        default="upsert",
        help="create only, update only, or both (default)",
    )
    imports.add_argument(
        "--map",
        nargs="+",
        metavar="COLUMN=FIELD",
        help="map a column to a field key (custom.KEY, new:Label; empty to ignore)",
    )
    imports.add_argument("--tags", nargs="+", help="tags for every imported row")
    imports.add_argument("--owner", help="owner ID for every imported row")
    imports.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    imports.add_argument("--user", default=current_user(), help="who imports (default: $CONTACTS_USER)")

    export = add("export", command_export, "Export the contacts of a view to CSV, XLSX or Parquet.")
    export.add_argument("--out", required=True, help="the file to write (.csv, .xlsx or .parquet)")
    export.add_argument("--format", choices=["csv", "xlsx", "parquet"], help="default: from the file name")
    export.add_argument("--segment", default="all", help="segment key, name or saved ID (default: All contacts)")
    export.add_argument("--search", help="only contacts matching this search")
    export.add_argument("--filter", help="only contacts matching this filter (JSON)")
    export.add_argument("--user", default=current_user(), help="whose 'My contacts' (default: $CONTACTS_USER)")

    add_channel_commands(add)
    add_duplicate_commands(add)
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
