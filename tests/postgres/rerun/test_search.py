"""tests/test_search.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_search import *  # noqa: F403
