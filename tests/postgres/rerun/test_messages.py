"""tests/test_messages.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_messages import *  # noqa: F403
