"""tests/test_export_people.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_export_people import *  # noqa: F403
