"""tests/test_contact_channels.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_contact_channels import *  # noqa: F403
