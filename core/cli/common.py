"""What every command shares: JSON on stdout, opening a database that must exist, the sub-command adder."""

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from core.config import current_user
from core.db import open_database
from core.db.connection import is_postgres_url
from core.errors import ContactsError

Handler = Callable[[argparse.Namespace], int]
Adder = Callable[[str, Handler, str], argparse.ArgumentParser]


def print_json(payload: Any) -> None:
    """One JSON document on stdout, dates and other values as text."""
    json.dump(payload, sys.stdout, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def open_existing(path: str) -> duckdb.DuckDBPyConnection:
    """Open a database that must already exist (a typo in --db should not create an empty one)."""
    if not database_exists(path):
        raise ContactsError(
            f"There is no database at {path}; create an empty one with `python -m core init --db {path}` "
            f"(or a demo with `python -m core demo --db {path}`)."
        )
    return open_database(path)


def database_exists(target: str) -> bool:
    """Whether --db names a database there is: a DuckDB file that exists, ":memory:", or a PostgreSQL URL."""
    return target == ":memory:" or is_postgres_url(target) or Path(target).exists()


def add_user_option(parser: argparse.ArgumentParser, help_text: str = "who acts (default: $CONTACTS_USER)") -> None:
    """The acting user's --user option, defaulting to the configured one."""
    parser.add_argument("--user", default=current_user(), help=help_text)


def require_active_user(con: duckdb.DuckDBPyConnection, user: str) -> str:
    """The acting user (--user), who must exist and be active: the CLI acts as a named user, never as nobody."""
    from core.accounts.permissions import role_of

    if role_of(con, user) is None:
        raise ContactsError(
            f"'{user}' is not an active user of this workspace; pass --user NAME (see `python -m core users list`)."
        )
    return user


def ask_app(request: urllib.request.Request, what: str, timeout: float = 300) -> dict[str, Any]:
    """Send a request to the running app; its JSON answer, or a one-line error naming `what` it refused."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise ContactsError(f"The app refused {what} ({error.code}): {detail}") from None
    except urllib.error.URLError as error:
        raise ContactsError(f"No app answers at {request.full_url}: {error.reason}") from None
