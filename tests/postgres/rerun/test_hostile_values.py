"""tests/test_hostile_values.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_hostile_values import *  # noqa: F403
