"""tests/test_merged_ids.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_merged_ids import *  # noqa: F403
