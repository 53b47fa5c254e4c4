"""tests/test_cli.py on PostgreSQL: the commands are given a new PostgreSQL database as `--db` (a URL). The held
file's lock and a missing file are DuckDB's own and run on DuckDB again."""

import pytest

from tests.test_cli import *  # noqa: F403
from tests.test_cli import fill_small


@pytest.fixture
def small_db(pg_url: str) -> str:
    fill_small(pg_url)
    return pg_url
