"""tests/test_segments.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_segments import *  # noqa: F403
