"""tests/test_import_xlsx.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_xlsx import *  # noqa: F403
