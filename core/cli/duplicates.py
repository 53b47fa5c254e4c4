"""`python -m core duplicates` and `merge`: finding duplicate contacts and merging them from the shell."""

import argparse
from pathlib import Path

import polars as pl

from core.cli.common import Adder, add_user_option, open_existing, print_json

# Each member's reason to be in its group: its best link inside it (linked_to), that link's score and evidence.
CSV_COLUMNS = ["group_id", "contact_id", "linked_to", "score", "kind", "evidence"]


def _score(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a score is between 0 and 1")
    return value


def command_duplicates(args: argparse.Namespace) -> int:
    from core.duplicates import duplicate_groups, find_duplicates
    from core.exporting import csv_bytes

    con = open_existing(args.db)
    run = find_duplicates(con, args.user, exact_only=args.exact_only)
    members = duplicate_groups(con, args.min_score, "exact" if args.exact_only else None)
    Path(args.out).write_bytes(csv_bytes(members.select(CSV_COLUMNS)))  # formulas neutralised, as every CSV
    sizes = members.group_by("group_id").agg(pl.len(), pl.col("kind").first())
    print_json(
        {
            "file": args.out,
            "groups": sizes.height,
            "exact_groups": sizes.filter(pl.col("kind") == "exact").height,
            "likely_groups": sizes.filter(pl.col("kind") == "likely").height,
            "contacts": members.height,
            "seconds": round(run.seconds, 2),
            "exact_pairs": run.exact_pairs,
            "likely_pairs": run.likely_pairs,
            # Each blocking rule's candidate pairs, those its pair budget left out, its largest block paired.
            "rules": [count.model_dump() for count in run.rules],
        }
    )
    return 0


def command_merge(args: argparse.Namespace) -> int:
    from core.duplicates.merge import merge_contacts
    from core.duplicates.merge_plan import preview_merge

    con = open_existing(args.db)
    if args.preview:
        print_json(preview_merge(con, args.primary, args.secondary).model_dump(mode="json"))
    else:
        merged = merge_contacts(con, args.primary, args.secondary, args.user)
        print_json(merged.model_dump(mode="json"))
    return 0


def register(add: Adder) -> None:
    """Register `duplicates` and `merge` on the main parser."""
    from core.duplicates.store import DEFAULT_MIN_SCORE

    duplicates = add(
        "duplicates",
        command_duplicates,
        "Find duplicate contacts; writes one CSV row per contact in a group (group_id, contact_id, score, kind, "
        "evidence) and prints a summary.",
    )
    duplicates.add_argument("--out", required=True, help="the CSV file to write")
    duplicates.add_argument(
        "--min-score",
        type=_score,
        default=DEFAULT_MIN_SCORE,
        help=f"likely pairs at or above this score form groups (default {DEFAULT_MIN_SCORE})",
    )
    duplicates.add_argument("--exact-only", action="store_true", help="only the same email or phone")
    add_user_option(duplicates, "who runs it (default: $CONTACTS_USER)")

    merge = add(
        "merge",
        command_merge,
        "Merge contacts into a primary (2 to 25 in all); prints the merged contact, or with --preview the preview.",
    )
    merge.add_argument("--primary", required=True, help="the contact that stays")
    merge.add_argument("--secondary", required=True, nargs="+", help="the contacts merged into it and deleted")
    merge.add_argument("--preview", action="store_true", help="show the merged contact field by field; change nothing")
    add_user_option(merge, "who merges (default: $CONTACTS_USER)")
