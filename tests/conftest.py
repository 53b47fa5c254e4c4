"""Fixtures shared by the core tests: a fresh in-memory database, one line to use."""

from collections.abc import Iterator

import duckdb
import pytest

from core.db import open_database


@pytest.fixture
def fresh_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory contacts database with every migration applied."""
    con = open_database()
    yield con
    con.close()
