"""tests/test_timeline.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_timeline import *  # noqa: F403
