"""tests/test_search_pages.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_search_pages import *  # noqa: F403
