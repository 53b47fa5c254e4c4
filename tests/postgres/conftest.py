"""PostgreSQL fixtures: one throwaway cluster per test process (each xdist worker has its own), a new database
per test. Without PostgreSQL the tests marked `postgres` skip, unless CONTACTS_REQUIRE_POSTGRES=1 (CI): then
they fail."""

import os
from collections.abc import Iterator

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from tests.postgres.cluster import Cluster, find_bin_dir, start_cluster


def _unavailable(reason: str) -> None:
    if os.environ.get("CONTACTS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (CONTACTS_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test process, on a unix socket in a temp folder; stopped at the end."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable("no pg_ctl on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    assert bin_dir is not None
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user to run the server")
    try:
        cluster = start_cluster(bin_dir)
    except Exception as error:  # noqa: BLE001 - any failure to start is "no PostgreSQL here"
        detail = getattr(error, "stderr", b"") or b""
        _unavailable(f"the cluster did not start: {error} {detail.decode(errors='replace')[-500:]}")
        raise
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """The URL of a new, empty database."""
    return pg_cluster.new_database()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator:
    """A migrated PostgreSQL contacts database with its admin, "admin" (no password): fresh_db's twin."""
    con = open_database(pg_url)
    bootstrap_admin(con)
    yield con
    con.close()


def serve_app_from(pg_url: str, monkeypatch: pytest.MonkeyPatch, people: list[tuple[str, str, str]]) -> Iterator[str]:
    """For a fixture: the database at `pg_url` with its admin and these (first, last, email) contacts, made the
    app's CONTACTS_DB; the app's cached connection is dropped afterwards."""
    con = open_database(pg_url)
    bootstrap_admin(con)
    for first, last, email in people:
        create_contact(con, ContactInput(first_name=first, last_name=last, email=email), "admin")
    con.close()
    monkeypatch.setenv("CONTACTS_DB", pg_url)
    yield pg_url
    from ui.session import _connection

    _connection.clear()
