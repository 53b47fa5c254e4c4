"""tests/test_import_notes.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_notes import *  # noqa: F403
