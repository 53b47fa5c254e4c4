"""tests/test_import_fidelity.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py)."""

from tests.test_import_fidelity import *  # noqa: F403
