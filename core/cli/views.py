"""`python -m core search`, `bulk` and `segments`: views of the contact list from the shell."""

import argparse
from typing import Any

from core.cli.common import Adder, add_user_option, open_existing, print_json
from core.errors import ContactsError
from core.views.filters import parse_filter
from core.views.queries import ListView, list_contacts


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
    print_json({"total": page.total, "total_estimated": page.estimated, "contacts": page.rows.to_dicts()})
    return 0


def command_bulk(args: argparse.Namespace) -> int:
    from core.views.bulk import Selection, run_bulk, selection_count

    action = args.action.replace("-", "_")
    if args.all:
        if args.ids or args.segment or args.filter:
            raise ContactsError("--all means every contact: leave out --segment, --filter and --ids.")
        selection = Selection(view=ListView(), everything=True)
    elif args.ids:
        selection = Selection(ids=args.ids)
    elif args.segment or args.filter:
        view = ListView(segment=args.segment or "all", filter=parse_filter(args.filter) if args.filter else None)
        selection = Selection(view=view)
    else:
        raise ContactsError("Choose the contacts with --segment, --filter or --ids (or --all for every contact).")
    con = open_existing(args.db)
    value: Any = {"add_tags": args.tags, "remove_tags": args.tags, "assign": args.owner}.get(action, args.status)
    if action == "delete":
        if not args.yes:
            raise ContactsError("Deleting is irreversible: pass --yes to confirm.")
        value = selection_count(con, selection, args.user)
    print_json(run_bulk(con, action, selection, args.user, value).model_dump())
    return 0


def command_segments(args: argparse.Namespace) -> int:
    from core.views.segments import delete_segment, rename_segment, save_segment, segment_summaries

    con = open_existing(args.db)
    if args.action == "save":
        if not args.name or not args.filter:
            raise ContactsError("Saving a segment needs a NAME and --filter JSON.")
        save_segment(con, args.name, parse_filter(args.filter), args.user)
    elif args.action == "rename":
        if not args.name or not args.new_name:
            raise ContactsError("Renaming a segment needs its NAME and --to NEW_NAME.")
        rename_segment(con, args.name, args.new_name, args.user)
    elif args.action == "delete":
        if not args.name:
            raise ContactsError("Deleting a segment needs its NAME.")
        delete_segment(con, args.name, args.user)
    print_json(segment_summaries(con, args.user).to_dicts())
    return 0


def register(add: Adder) -> None:
    """Add `search`, `bulk` and `segments` to the main parser."""
    search = add("search", command_search, "Search contacts inside a segment; prints {total, contacts}.")
    search.add_argument("query", help="text to find in names, email, phone and custom fields")
    search.add_argument("--segment", default="all", help="segment key, name or saved ID (default: All contacts)")
    search.add_argument(
        "--filter",
        help='filter as JSON, e.g. \'{"conditions": [{"field": "email", "op": "contains", "value": "acme"}]}\'',
    )
    search.add_argument("--limit", type=int, default=50, help="contacts to print (default 50); total counts all")
    add_user_option(search, "whose 'My contacts' (default: $CONTACTS_USER)")
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
    bulk.add_argument("--all", action="store_true", help="every contact (a delete of everything needs it said)")
    bulk.add_argument("--tags", nargs="+", help="tags to add or remove")
    bulk.add_argument("--owner", help="owner ID to assign ('' unassigns)")
    bulk.add_argument("--status", choices=["subscribed", "unsubscribed", "not set"], help="new subscription")
    bulk.add_argument("--yes", action="store_true", help="confirm a delete")
    add_user_option(bulk, "who acts (default: $CONTACTS_USER)")

    segments = add("segments", command_segments, "List saved and system segments with counts; save, rename, delete.")
    segments.add_argument("action", nargs="?", default="list", choices=["list", "save", "rename", "delete"])
    segments.add_argument("name", nargs="?", help="the segment's name (or saved ID)")
    segments.add_argument("--filter", help="the filter to save, as JSON")
    segments.add_argument("--to", dest="new_name", help="the new name when renaming")
    add_user_option(segments, "who acts (default: $CONTACTS_USER)")
