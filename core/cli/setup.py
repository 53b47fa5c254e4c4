"""`python -m core init`, `backup` and `restore`: a workspace's life outside the app."""

import argparse
import base64
import getpass
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from core.cli.common import Adder, add_user_option, ask_app, open_existing, print_json
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


def _password() -> str:
    """The acting admin's password: stdin's first line when piped, else asked once without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("Password: ")


def backup_through_app(url: str, user: str, password: str) -> dict[str, Any]:
    """Ask the app running at `url` (on this machine) to take a backup; its manifest."""
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        url.rstrip("/").removesuffix("/api/backup") + "/api/backup",
        data=b"",
        method="POST",
        headers={"Authorization": f"Basic {credentials}"},
    )
    return ask_app(request, "the backup", timeout=600)


def command_backup(args: argparse.Namespace) -> int:
    from core.db.backup import backup

    if args.url:
        print_json(backup_through_app(args.url, args.user, _password()))
        return 0
    if not args.out:
        raise ContactsError("Say where the backup goes with --out DIR (or ask the running app with --url).")
    try:
        con = open_existing(args.db)
    except DatabaseLockedError:
        raise DatabaseLockedError(
            f"The database {args.db} is in use (is the app running?): ask the app with "
            "`python -m core backup --url http://localhost:8501`, or use its Settings page."
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
    backup.add_argument("--out", help="the folder to write (new or empty)")
    backup.add_argument(
        "--url",
        help="the running app's address on this machine: it takes the backup into its backups folder "
        "(the --user admin's password is read from standard input, or asked)",
    )
    add_user_option(backup)
    restore = add("restore", command_restore, "Bring a backup back as the database at --db, after checking it.")
    restore.add_argument("--from", dest="source", required=True, help="the backup's folder")
    restore.add_argument("--replace", action="store_true", help="replace the database at --db if there is one")
