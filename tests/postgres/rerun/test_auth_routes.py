"""tests/test_auth_routes.py on PostgreSQL: its `app` signs in against a new PostgreSQL database (CONTACTS_DB a
URL)."""

import pytest
from starlette.applications import Starlette

from core.accounts.users import create_first_admin
from core.db import open_database
from tests.test_auth_routes import *  # noqa: F403
from tests.test_auth_routes import PASSWORD
from ui import session
from ui.auth_routes import ROUTES


@pytest.fixture
def app(pg_url, monkeypatch):
    con = open_database(pg_url)
    create_first_admin(con, "ada", "Ada", PASSWORD)
    con.close()
    monkeypatch.setenv("CONTACTS_DB", pg_url)
    session._connection.clear()
    yield Starlette(routes=ROUTES)
    session._connection.clear()
