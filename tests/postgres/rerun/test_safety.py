"""tests/test_safety.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_safety import *  # noqa: F403
