"""`python -m core demo`: a database filled with realistic demo contacts."""

import argparse
import secrets
import sys
from pathlib import Path

from core.accounts.users import create_first_admin, needs_first_admin
from core.cli.common import Adder, print_json
from core.db import open_database, scalar
from core.db.connection import is_postgres_url
from core.errors import ContactsError


def command_demo(args: argparse.Namespace) -> int:
    from core.demo.generator import DEMO_ADMIN, generate_demo

    on_server = is_postgres_url(args.db)  # a PostgreSQL database exists already: refused if it holds contacts
    if not on_server and Path(args.db).exists() and not args.force:
        raise ContactsError(f"{args.db} already exists; pass --force to add demo data to it anyway.")
    con = open_database(args.db)
    if on_server and not args.force and scalar(con, "SELECT count(*) FROM contacts"):
        con.close()
        raise ContactsError("That database already holds contacts; pass --force to add demo data to it anyway.")
    summary = generate_demo(con, contacts=args.contacts, seed=args.seed)
    payload = summary.model_dump()
    if needs_first_admin(con):  # a new demo: its admin gets a random password, shown this once
        password = secrets.token_urlsafe(12)
        create_first_admin(con, DEMO_ADMIN, "Admin", password)
        payload["demo_admin"] = {"user": DEMO_ADMIN, "password": password}
        print(
            f"Demo admin: sign in as '{DEMO_ADMIN}' with password {password} "
            "(shown once: note it, or set another with `python -m core users` / Settings > Users).",
            file=sys.stderr,
        )
    con.close()
    print_json(payload)
    return 0


def register(add: Adder) -> None:
    """Add `demo` to the main parser."""
    demo = add("demo", command_demo, "Create a database filled with realistic demo contacts.")
    demo.add_argument("--contacts", type=int, default=5000, help="how many contacts (default 5000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed, for a reproducible database")
    demo.add_argument("--force", action="store_true", help="add to an existing database")
