"""tests/test_accounts.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_accounts import *  # noqa: F403
