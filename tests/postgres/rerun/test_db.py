"""tests/test_db.py on PostgreSQL (fresh_db from tests/postgres/rerun/conftest.py): transactions and scratch
relations; the tests of DuckDB files and their lock open their own DuckDB databases and run on DuckDB again."""

from tests.test_db import *  # noqa: F403
