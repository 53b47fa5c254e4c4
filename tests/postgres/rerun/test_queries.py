"""tests/test_queries.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_queries import *  # noqa: F403
