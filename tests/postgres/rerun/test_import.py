"""tests/test_import.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import import *  # noqa: F403
