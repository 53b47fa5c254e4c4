"""tests/test_import_cli.py on PostgreSQL: `init`, `import` and `export` are given a new PostgreSQL database as
`--db` (a URL)."""

import pytest

from tests.test_import_cli import *  # noqa: F403


@pytest.fixture
def db(pg_url: str) -> str:
    return pg_url
