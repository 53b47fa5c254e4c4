"""tests/test_dashboard.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_dashboard import *  # noqa: F403
