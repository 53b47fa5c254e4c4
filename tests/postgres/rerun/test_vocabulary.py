"""tests/test_vocabulary.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_vocabulary import *  # noqa: F403
