"""`python -m core import` and `export`: contacts in and out of files."""

import argparse
from pathlib import Path

from core.cli.common import Adder, add_user_option, open_existing, print_json
from core.errors import ContactsError
from core.views.filters import parse_filter
from core.views.queries import ListView


def command_import(args: argparse.Namespace) -> int:
    from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table

    path = Path(args.file)
    if not path.is_file():
        raise ContactsError(f"There is no file at {path}.")
    table = read_table(path.name, path.read_bytes(), args.encoding)
    con = open_existing(args.db)
    mapping = auto_map(con, table.headers, table.frame)
    for item in args.map or []:
        column, separator, target = item.partition("=")
        if not separator:
            raise ContactsError(f"--map takes COLUMN=FIELD (FIELD empty to ignore), not '{item}'.")
        mapping[column.strip()] = target.strip()
    orders = {}
    for item in args.date_order or []:
        column, _, order = item.partition("=")
        if order.strip() not in ("day", "month"):
            raise ContactsError(f"--date-order takes COLUMN=day or COLUMN=month, not '{item}'.")
        orders[column.strip()] = f"{order.strip()} first"
    options = ImportOptions(
        mode=args.mode,
        mapping=mapping,
        tags=args.tags or [],
        owner_id=args.owner,
        date_orders=orders,
        missing_column=args.missing_column,
        keep_unmapped=args.keep_unmapped,
    )
    plan = plan_import(con, table, options)
    counts = plan.counts()
    every_row_rejected = counts["rejected"] > 0 and counts["rejected"] == sum(counts.values())
    if not args.dry_run and not every_row_rejected:
        commit_import(con, plan, args.user)
    print_json(plan.report())
    return 3 if every_row_rejected else 0  # as `ingest` exits 3 on a malformed line: nothing could be imported


def command_export(args: argparse.Namespace) -> int:
    from core.exporting import FORMATS, export_view

    out = Path(args.out)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ContactsError(f"Say --format {'|'.join(FORMATS)} or name the file .csv, .xlsx, .parquet or .vcf.")
    con = open_existing(args.db)
    view = ListView(
        segment=args.segment, search=args.search or "", filter=parse_filter(args.filter) if args.filter else None
    )
    data = export_view(con, view, args.user, fmt, all_fields=True, headers=args.headers)
    out.write_bytes(data)
    print_json({"file": str(out), "format": fmt, "bytes": len(data)})
    return 0


def register(add: Adder) -> None:
    """Add `import` and `export` to the main parser."""
    imports = add(
        "import",
        command_import,
        "Import contacts from a CSV, XLSX or vCard file; prints {created, updated, skipped, rejected, errors, "
        "warnings, encoding, unmapped, ...}.",
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
    imports.add_argument("--encoding", help="read the CSV in this encoding (default: detected, and reported)")
    imports.add_argument(
        "--date-order",
        nargs="+",
        metavar="COLUMN=day|month",
        help="day or month first for a date column no value settles (default: the workspace's country)",
    )
    imports.add_argument(
        "--missing-column",
        help="the column the file's short rows lack ('' pads them at the end; default: found from their values)",
    )
    imports.add_argument("--keep-unmapped", action="store_true", help="keep every unmapped column as a new field")
    add_user_option(imports, "who imports (default: $CONTACTS_USER)")

    export = add(
        "export", command_export, "Export the contacts of a view (every field) to CSV, XLSX, Parquet or vCard."
    )
    export.add_argument("--out", required=True, help="the file to write (.csv, .xlsx, .parquet or .vcf)")
    export.add_argument("--format", choices=["csv", "xlsx", "parquet", "vcf"], help="default: from the file name")
    export.add_argument(
        "--headers", choices=["labels", "keys"], default="labels", help="column names as people read them, or keys"
    )
    export.add_argument("--segment", default="all", help="segment key, name or saved ID (default: All contacts)")
    export.add_argument("--search", help="only contacts matching this search")
    export.add_argument("--filter", help="only contacts matching this filter (JSON)")
    add_user_option(export, "whose 'My contacts' (default: $CONTACTS_USER)")
