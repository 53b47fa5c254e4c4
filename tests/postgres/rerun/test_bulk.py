"""tests/test_bulk.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_bulk import *  # noqa: F403
