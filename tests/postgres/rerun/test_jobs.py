"""tests/test_jobs.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_jobs import *  # noqa: F403
