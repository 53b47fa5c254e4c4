"""Contacts core: the library behind the app and the command line (no Streamlit here)."""

from core.db import open_database, transaction
from core.errors import ContactsError, DatabaseLockedError, StaleContactError

__all__ = [
    "ContactsError",
    "DatabaseLockedError",
    "StaleContactError",
    "open_database",
    "transaction",
]
