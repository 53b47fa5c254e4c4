"""Settings read from the environment, with defaults that work on a fresh checkout."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "contacts.duckdb"


def database_path() -> Path:
    """The database file: $CONTACTS_DB, else data/contacts.duckdb."""
    return Path(os.environ.get("CONTACTS_DB") or DEFAULT_DB_PATH)


def current_user() -> str:
    """The signed-in user; until login exists, the configured local admin."""
    return os.environ.get("CONTACTS_USER", "admin")
