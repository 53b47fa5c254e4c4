"""tests/test_permissions.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_permissions import *  # noqa: F403
