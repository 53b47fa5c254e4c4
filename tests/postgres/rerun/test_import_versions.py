"""tests/test_import_versions.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_versions import *  # noqa: F403
