"""Settings read from the environment, with defaults that work on a fresh checkout."""

import os
import re
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.errors import ContactsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "contacts.duckdb"


def database_path() -> Path:
    """The database file: $CONTACTS_DB, else data/contacts.duckdb."""
    return Path(os.environ.get("CONTACTS_DB") or DEFAULT_DB_PATH)


def database_target() -> str:
    """$CONTACTS_DB as given (a DuckDB file, or a postgresql:// URL, which a Path would mangle), else the default."""
    return os.environ.get("CONTACTS_DB") or str(DEFAULT_DB_PATH)


def current_user() -> str:
    """The command line's default acting user (--user): $CONTACTS_USER, else admin. The app signs people in."""
    return os.environ.get("CONTACTS_USER", "admin")


def client_address_header() -> str | None:
    """$CONTACTS_CLIENT_HEADER: the request header holding the browser's address, set by the proxy in front of
    the app (`make run-cluster` sets X-Real-IP); unset, the address is the connection's peer."""
    return os.environ.get("CONTACTS_CLIENT_HEADER", "").strip() or None


def ingest_token() -> str:
    """The token the ingest endpoint wants: $CONTACTS_INGEST_TOKEN, else one kept beside the database.

    The kept token (created on first use, readable by its owner only) lets `make run` work with no
    setup while never accepting a guessable default.
    """
    known = known_ingest_token()
    if known:
        return known
    path = ingest_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process kept one a moment ago
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as kept:
        kept.write(token)
    return token


def ingest_token_path() -> Path:
    """Where the generated ingest token is kept: beside the database, as <db>.ingest-token; for a PostgreSQL
    database, in data/ as <database name>.postgres.ingest-token (each app process on this machine finds it)."""
    target = database_target()
    if target.startswith(("postgresql://", "postgres://")):
        return DEFAULT_DB_PATH.parent / f"{_postgres_database_name(target)}.postgres.ingest-token"
    database = Path(target)
    return database.with_name(database.name + ".ingest-token")


def _postgres_database_name(url: str) -> str:
    """The database a postgresql:// URL names (its path, else ?dbname=, else its user's), safe as a file name."""
    parts = urlsplit(url)
    named = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair).get("dbname")
    name = unquote(parts.path.lstrip("/") or named or parts.username or "postgres")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "postgres"


def known_ingest_token() -> str | None:
    """The ingest token if configured or already kept, without creating one (what a client sends)."""
    configured = os.environ.get("CONTACTS_INGEST_TOKEN", "").strip()
    if configured:
        return configured
    path = ingest_token_path()
    return path.read_text().strip() if path.exists() else None


def rotate_ingest_token() -> str:
    """Keep a new random ingest token beside the database (owner-only), replacing the old one at once.

    A token set by $CONTACTS_INGEST_TOKEN is the operator's: change it there.
    """
    if os.environ.get("CONTACTS_INGEST_TOKEN", "").strip():
        raise ContactsError("The ingest token comes from $CONTACTS_INGEST_TOKEN here; change it there.")
    path = ingest_token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fresh = path.with_name(path.name + ".new")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as kept:
        kept.write(token)
    os.replace(fresh, path)  # atomic: a request reads the old token or the new one, never half of one
    return token
