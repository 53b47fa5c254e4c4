"""tests/test_merge.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_merge import *  # noqa: F403
