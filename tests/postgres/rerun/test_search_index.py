"""tests/test_search_index.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_search_index import *  # noqa: F403
