"""tests/test_workspace_settings.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_workspace_settings import *  # noqa: F403
