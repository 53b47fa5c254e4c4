"""tests/test_export.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_export import *  # noqa: F403
