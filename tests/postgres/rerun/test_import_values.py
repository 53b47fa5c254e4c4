"""tests/test_import_values.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_values import *  # noqa: F403
