"""The workspace basics on PostgreSQL through the same core API as on DuckDB: open and migrate, create, read,
update with the version check, a stale edit refused, delete, a list page and a simple filter."""

import pytest

from core.contacts.models import ContactInput
from core.contacts.records import create_contact, delete_contacts, find_contact, get_contact, update_contact
from core.db import apply_migrations, rows, scalar, transaction
from core.db.connection import migration_files
from core.errors import ContactsError, StaleContactError
from core.views.filters import parse_filter
from core.views.queries import ListView, count_view, list_contacts

pytestmark = pytest.mark.postgres


def test_open_migrates_and_reopening_applies_nothing(pg_db, pg_url):
    recorded = rows(pg_db, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert recorded == [(version, name) for version, name, _ in migration_files()]
    assert apply_migrations(pg_db) == []
    assert scalar(pg_db, "SELECT value FROM settings WHERE key = ?", ["default_country"]) == "US"


def test_create_read_update_delete(pg_db):
    ada = create_contact(pg_db, ContactInput(first_name="Ada", email="Ada@Example.com", tags=["vip"]), "admin")
    assert ada.email == "ada@example.com" and ada.lead_stage == "Contact" and ada.version == 1
    assert get_contact(pg_db, ada.contact_id).tags == ["vip"]

    updated = update_contact(pg_db, ada.contact_id, {"last_name": "Lovelace"}, ada.version, "admin")
    assert updated.last_name == "Lovelace" and updated.version == 2
    with pytest.raises(StaleContactError):
        update_contact(pg_db, ada.contact_id, {"last_name": "Byron"}, ada.version, "admin")  # read at version 1
    assert get_contact(pg_db, ada.contact_id).last_name == "Lovelace"

    assert delete_contacts(pg_db, [ada.contact_id], "admin", 1) == 1
    assert find_contact(pg_db, ada.contact_id) is None
    assert scalar(pg_db, "SELECT count(*) FROM deletion_log WHERE contact_id = ?", [ada.contact_id]) == 1
    assert scalar(pg_db, "SELECT count(*) FROM activity WHERE contact_id = ?", [ada.contact_id]) == 0


def test_a_given_contact_id_must_be_new(pg_db):
    create_contact(pg_db, ContactInput(contact_id="c1", email="a@example.com"), "admin")
    with pytest.raises(ContactsError, match="already exists"):
        create_contact(pg_db, ContactInput(contact_id="c1", email="b@example.com"), "admin")


def test_an_edit_racing_another_session_is_stale_not_lost(pg_db):
    """Two sessions (two app processes on one database) save the same contact: one wins, the other is told."""
    ada = create_contact(pg_db, ContactInput(first_name="Ada", email="ada@example.com"), "admin")
    other = pg_db.cursor()
    try:
        with transaction(other):  # the other session holds its write open while ours tries
            other.execute(
                "UPDATE contacts SET version = version + 1, city = 'Paris' WHERE contact_id = ?", [ada.contact_id]
            )
            other.execute("SELECT 1")
        with pytest.raises(StaleContactError):
            update_contact(pg_db, ada.contact_id, {"city": "London"}, ada.version, "admin")
    finally:
        other.close()
    assert get_contact(pg_db, ada.contact_id).city == "Paris"


def test_list_page_and_a_simple_filter(pg_db):
    for number in range(7):
        create_contact(
            pg_db,
            ContactInput(
                first_name=f"P{number}", email=f"p{number}@example.com", company="Acme" if number % 2 else "Initech"
            ),
            "admin",
        )
    page = list_contacts(pg_db, ListView(page_size=3, sort="first_name", descending=False), user="admin")
    assert page.total == 7
    assert page.rows["first_name"].to_list() == ["P0", "P1", "P2"]
    last = list_contacts(pg_db, ListView(page=3, page_size=3, sort="first_name", descending=False), user="admin")
    assert last.rows["first_name"].to_list() == ["P6"]

    paris = parse_filter({"conditions": [{"field": "company", "op": "is", "value": "Acme"}]})
    assert count_view(pg_db, ListView(filter=paris), user="admin") == 3
    found = list_contacts(pg_db, ListView(filter=paris, sort="first_name", descending=False), user="admin")
    assert found.rows["first_name"].to_list() == ["P1", "P3", "P5"]


def test_the_app_s_sessions_compile_no_plans(pg_db):
    """JIT is off for the app's sessions (core.db.postgres.connect_session): it cost more than it saved."""
    assert pg_db.execute("SHOW jit").fetchall() == [("off",)]
    cursor = pg_db.cursor()
    assert cursor.execute("SHOW jit").fetchall() == [("off",)]
    cursor.close()
