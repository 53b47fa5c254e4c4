"""tests/test_cli_users.py on PostgreSQL: its `workspace` is a new PostgreSQL database given to `--db` as a URL
(a demo's database is still a DuckDB file)."""

import pytest

from core.cli import main
from tests.test_cli_users import *  # noqa: F403


@pytest.fixture
def workspace(pg_url, capsys):
    assert main(["init", "--db", pg_url]) == 0
    capsys.readouterr()
    return pg_url
