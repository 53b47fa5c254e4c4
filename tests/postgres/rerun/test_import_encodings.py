"""tests/test_import_encodings.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_encodings import *  # noqa: F403
