"""tests/test_duplicates.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_duplicates import *  # noqa: F403
