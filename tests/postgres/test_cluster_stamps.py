"""The write stamps (core/stamps.py) on a database several app processes share: a write through one connection
or process moves the stamps every other one reads, so no process keeps a cache past another's write."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.db import open_database
from core.stamps import contacts_stamp, workspace_stamp
from core.workspace import add_lead_stage

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_connections(pg_url: str):
    """Two connections to one database, each with its own sessions, as two app processes have."""
    first = open_database(pg_url)
    bootstrap_admin(first)
    second = open_database(pg_url)
    yield first, second
    first.close()
    second.close()


def test_a_write_on_one_connection_moves_the_stamps_the_other_reads(two_connections):
    first, second = two_connections
    workspace, contacts = workspace_stamp(second), contacts_stamp(second)
    create_contact(first, ContactInput(contact_id="ada", first_name="Ada"), "admin")
    assert contacts_stamp(second) > contacts
    assert workspace_stamp(second) == workspace  # a contact write leaves the field lists' stamp
    update_contact(first, "ada", {"last_name": "Lovelace"}, 1, "admin")
    add_lead_stage(first, "Trial", "admin")
    assert workspace_stamp(second) > workspace
    assert (workspace_stamp(first), contacts_stamp(first)) == (workspace_stamp(second), contacts_stamp(second))


def test_a_write_in_another_process_moves_the_stamps_this_one_reads(two_connections, pg_url: str):
    first, _ = two_connections
    before = contacts_stamp(first)
    script = (
        "import sys\n"
        "from core.contacts.models import ContactInput\n"
        "from core.contacts.records import create_contact\n"
        "from core.db import open_database\n"
        "create_contact(open_database(sys.argv[1]), ContactInput(contact_id='bob', first_name='Bob'), 'admin')\n"
    )
    subprocess.run([sys.executable, "-c", script, pg_url], cwd=ROOT, check=True, timeout=120)
    assert contacts_stamp(first) > before
    assert first.execute("SELECT first_name FROM contacts WHERE contact_id = 'bob'").fetchall() == [("Bob",)]


def test_a_refused_or_failed_write_leaves_the_database_usable(two_connections):
    """A writer that fails inside its transaction still moves the stamps (a needless re-read), and the move runs
    in a session of its own, so the failure's aborted transaction does not hide the writer's own error."""
    first, second = two_connections
    create_contact(first, ContactInput(contact_id="ada", first_name="Ada"), "admin")
    before = contacts_stamp(second)
    with pytest.raises(Exception, match="changed"):
        update_contact(first, "ada", {"last_name": "Byron"}, 7, "admin")  # not its version: stale
    assert contacts_stamp(second) >= before
    update_contact(first, "ada", {"last_name": "Byron"}, 1, "admin")
    assert contacts_stamp(second) > before
