"""tests/test_dashboard_snapshots.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_dashboard_snapshots import *  # noqa: F403
