"""`python -m core init`, `backup` and `restore`: a workspace's life outside the app."""

import argparse
from pathlib import Path

from core.cli.common import Adder, open_existing, print_json
from core.db import open_database
from core.errors import ContactsError, DatabaseLockedError


def command_init(args: argparse.Namespace) -> int:
    from core.accounts.users import bootstrap_admin

    if Path(args.db).exists():
        raise ContactsError(f"There is already a database at {args.db}; init creates a new one.")
    con = open_database(args.db)
    bootstrap_admin(con)  # its first admin, "admin", as a new workspace has
    version = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
    con.close()
    print_json({"database": args.db, "schema_version": version})
    return 0


def command_backup(args: argparse.Namespace) -> int:
    from core.db.backup import backup

    try:
        con = open_existing(args.db)
    except DatabaseLockedError:
        raise DatabaseLockedError(
            f"The database {args.db} is in use (is the app running?): back up from the app's Settings page, "
            "which takes the backup in its own process."
        ) from None
    try:
        print_json(backup(con, args.out).model_dump())
    finally:
        con.close()
    return 0


def command_restore(args: argparse.Namespace) -> int:
    from core.db.backup import restore

    info = restore(args.source, args.db, replace=args.replace)
    print_json({"restored": args.db, **info.model_dump()})
    return 0


def register(add: Adder) -> None:
    """Add `init`, `backup` and `restore` to the main parser."""
    add("init", command_init, "Create an empty workspace database at --db (every other command wants one).")
    backup = add("backup", command_backup, "Write a consistent snapshot of the database into a new folder.")
    backup.add_argument("--out", required=True, help="the folder to write (new or empty)")
    restore = add("restore", command_restore, "Bring a backup back as the database at --db, after checking it.")
    restore.add_argument("--from", dest="source", required=True, help="the backup's folder")
    restore.add_argument("--replace", action="store_true", help="replace the database at --db if there is one")
