"""Core test modules run again with `fresh_db` on PostgreSQL: each file here imports one module of tests/ whole
(`from tests.test_x import *`), and this folder's `fresh_db` gives its tests a new PostgreSQL database, a copy of
one migrated once per test process. Fixtures a module opens itself (`open_database()` in a module-scoped
fixture) stay on DuckDB. Every test here is marked `postgres` and strict: a module is listed only when all of
its tests pass on PostgreSQL (docs/postgres.md, "What runs on PostgreSQL now")."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from core.accounts.users import bootstrap_admin
from core.db import open_database
from tests.postgres.cluster import Cluster

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster) -> str:
    """The name of a migrated database with its admin, copied for each test (much faster than migrating)."""
    url = pg_cluster.new_database("template")
    con = open_database(url)
    bootstrap_admin(con)
    con.close()
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:  # idle pooled sessions block a copy
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
    return name


@pytest.fixture
def fresh_db(pg_cluster: Cluster, pg_template: str) -> Iterator:
    """A PostgreSQL contacts database with every migration applied and its admin, "admin" (no password)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    con = open_database(pg_cluster.url(name))
    yield con
    con.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.postgres)
