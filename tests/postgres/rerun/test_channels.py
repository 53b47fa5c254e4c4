"""tests/test_channels.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_channels import *  # noqa: F403
