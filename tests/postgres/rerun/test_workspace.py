"""tests/test_workspace.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_workspace import *  # noqa: F403
