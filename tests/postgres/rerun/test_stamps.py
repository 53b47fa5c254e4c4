"""tests/test_stamps.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_stamps import *  # noqa: F403
