"""tests/test_filters.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_filters import *  # noqa: F403
