"""tests/test_import_real_exports.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_real_exports import *  # noqa: F403
