"""`python -m core users add|list|set-role|deactivate`: the workspace's accounts from the command line.

A password is read from standard input when that is not a terminal (scripts: `echo "$PW" | python -m core users
add ...`), else asked for twice without echo. The very first admin of an empty workspace needs no --user;
every other change is made by --user, an existing active admin (core.accounts.permissions decides).
"""

import argparse
import getpass
import sys

from core.accounts.users import add_user, create_first_admin, deactivate_user, list_users, needs_first_admin, set_role
from core.cli.common import Adder, Handler, add_user_option, open_existing, print_json, require_active_user
from core.errors import ContactsError


def read_password() -> str:
    """The new password: stdin's first line when piped, else typed twice at a prompt."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 10 characters): ")
    if getpass.getpass("Password again: ") != first:
        raise ContactsError("The two passwords differ.", field="password")
    return first


def command_add(args: argparse.Namespace) -> int:
    con = open_existing(args.db)
    user_id = args.name.strip().lower()
    if args.admin and needs_first_admin(con):
        create_first_admin(con, user_id, args.full_name or user_id, read_password())
        first = True
    else:
        require_active_user(con, args.user)
        password = None if args.no_password else read_password()
        add_user(con, user_id, args.full_name or user_id, "admin" if args.admin else "agent", password, args.user)
        first = False
    con.close()
    print_json({"added": user_id, "role": "admin" if args.admin else "agent", "first_admin": first})
    return 0


def command_list(args: argparse.Namespace) -> int:
    con = open_existing(args.db)
    require_active_user(con, args.user)
    print_json(list_users(con).to_dicts())  # no password hashes: list_users never reads them
    con.close()
    return 0


def command_set_role(args: argparse.Namespace) -> int:
    con = open_existing(args.db)
    require_active_user(con, args.user)
    set_role(con, args.name.strip().lower(), args.role, args.user)
    con.close()
    print_json({"user": args.name, "role": args.role})
    return 0


def command_deactivate(args: argparse.Namespace) -> int:
    con = open_existing(args.db)
    require_active_user(con, args.user)
    moved = deactivate_user(con, args.name.strip().lower(), args.reassign_to, args.user)
    con.close()
    print_json({"deactivated": args.name, "contacts_reassigned": moved, "to": args.reassign_to})
    return 0


def _usage(args: argparse.Namespace) -> int:
    raise ContactsError("Say what to do: python -m core users add|list|set-role|deactivate ...")


def register(add: Adder) -> None:
    """Add `users` with its sub-commands add, list, set-role and deactivate."""
    users = add("users", _usage, "Manage the workspace's users: add, list, set-role, deactivate.")
    database = users.get_default("db")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def action(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", default=database, help="database file (default: $CONTACTS_DB)")
        add_user_option(sub, "who makes the change: an existing active admin (default: $CONTACTS_USER)")
        sub.set_defaults(handler=handler)
        return sub

    added = action("add", command_add, "Add a user (the first admin of an empty workspace needs no --user).")
    added.add_argument("name", help="user name: lower-case letters, digits, dots, dashes, underscores")
    added.add_argument("--admin", action="store_true", help="an admin (default: an agent)")
    added.add_argument("--full-name", default="", help="the name shown in the app (default: the user name)")
    added.add_argument("--no-password", action="store_true", help="owns contacts but cannot sign in")
    action("list", command_list, "List the users: role, active, can sign in, contacts owned.")
    role = action("set-role", command_set_role, "Make a user an admin or an agent (the last admin stays).")
    role.add_argument("name")
    role.add_argument("role", choices=["admin", "agent"])
    gone = action("deactivate", command_deactivate, "Deactivate a user; their contacts go to --reassign-to.")
    gone.add_argument("name")
    gone.add_argument("--reassign-to", default=None, help="an active user (default: leave them unassigned)")
