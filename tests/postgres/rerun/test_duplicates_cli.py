"""tests/test_duplicates_cli.py on PostgreSQL: `duplicates` and `merge` are given a new PostgreSQL database as
`--db` (a URL). The FEBRL accuracy test reads no workspace (bench.accuracy runs in its own DuckDB): it is not run
again here."""

import pytest

from tests.conftest import AddContact
from tests.test_duplicates_cli import *  # noqa: F403
from tests.test_duplicates_cli import fill_dups

del test_febrl_accuracy_meets_the_target  # noqa: F821


@pytest.fixture
def dup_db(pg_url: str, add_contact: AddContact) -> str:
    fill_dups(pg_url, add_contact)
    return pg_url
