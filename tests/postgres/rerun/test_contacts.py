"""tests/test_contacts.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_contacts import *  # noqa: F403
