"""tests/test_bulk_indexes.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_bulk_indexes import *  # noqa: F403
