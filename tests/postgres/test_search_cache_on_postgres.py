"""What a process keeps of a search until the next write (core.views.queries: the search's conditions and its
sampled counts) on a database several app processes share: kept on PostgreSQL too, keyed by the database and its
contacts write stamp, so a write by another process is seen at once, never a stale kept search."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from core.views import queries
from core.views.fuzzy import database_stamp
from core.views.queries import ListView, estimated_count, list_contacts

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]

_CREATE_IN_ANOTHER_PROCESS = (
    "import sys\n"
    "from core.contacts.models import ContactInput\n"
    "from core.contacts.records import create_contact\n"
    "from core.db import open_database\n"
    "name = sys.argv[2]\n"
    "create_contact(open_database(sys.argv[1]), ContactInput(contact_id=name, first_name=name), 'admin')\n"
)


@pytest.fixture
def app_db(pg_url: str):
    """This process's connection to a database another process will write to."""
    queries.forget_searches()
    con = open_database(pg_url)
    bootstrap_admin(con)
    create_contact(con, ContactInput(contact_id="ada", first_name="Ada", last_name="Lovelace"), "admin")
    yield con
    con.close()
    queries.forget_searches()


def _create_in_another_process(pg_url: str, first_name: str) -> None:
    subprocess.run([sys.executable, "-c", _CREATE_IN_ANOTHER_PROCESS, pg_url, first_name], cwd=ROOT, check=True)


def _kept_searches() -> list[str]:
    return [key[-1] for key in queries._searches]


def test_a_search_is_kept_and_a_write_in_another_process_is_seen(app_db, pg_url: str):
    assert list_contacts(app_db, ListView(search="zebulon"), "admin").total == 0
    assert "zebulon" in _kept_searches()  # kept: the next page or sort reuses it
    stamp = database_stamp(app_db)
    assert stamp is not None and database_stamp(app_db) == stamp  # reads move nothing
    _create_in_another_process(pg_url, "Zebulon")
    assert database_stamp(app_db) != stamp
    page = list_contacts(app_db, ListView(search="zebulon"), "admin")
    assert (page.total, page.rows["first_name"].to_list()) == (1, ["Zebulon"])


def test_a_sampled_count_is_kept_until_another_process_writes(app_db, pg_url: str):
    def everyone() -> int | None:  # a sample of every page: the exact count, through the kept sample
        return estimated_count(app_db, "TRUE", {}, many=True, percent=100, exact_up_to=0)

    assert everyone() == 1
    app_db.execute("INSERT INTO contacts (contact_id, first_name) VALUES ('raw', 'Raw')")  # past the writers
    assert everyone() == 1  # kept: no writer moved the stamp
    _create_in_another_process(pg_url, "Bob")
    assert everyone() == 3


def test_each_database_keeps_its_own(pg_cluster):
    """Two databases of one server (or one dropped and made again) never share what is kept."""
    first, second = (open_database(pg_cluster.new_database()) for _ in range(2))
    try:
        assert database_stamp(first)[0] != database_stamp(second)[0]
    finally:
        first.close()
        second.close()
