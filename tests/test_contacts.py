"""Creating, reading, updating, blocking and deleting contacts, and their notes."""

import itertools
import json
import re
from datetime import datetime

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import read_values, write_values
from core.contacts.models import Contact, ContactInput
from core.contacts.records import (
    add_note,
    create_contact,
    delete_contacts,
    find_contact,
    get_contact,
    new_contact_id,
    new_contact_ids,
    set_blocked,
    update_contact,
)
from core.contacts.timeline import timeline
from core.db import open_database, rows, scalar
from core.errors import ContactsError, StaleContactError
from core.workspace import add_owner, define_custom_field

RELATED = ("conversations", "tickets", "notes", "media", "activity", "custom_values")
TABLES = ("contacts", *RELATED, "deletion_log")


def table_counts(con) -> dict[str, int]:
    return {table: scalar(con, f"SELECT count(*) FROM {table}") for table in TABLES}


def activity_of(con, contact_id: str) -> list[tuple[str, str, dict | None]]:
    found = rows(
        con, "SELECT actor, action, changes FROM activity WHERE contact_id = ? ORDER BY activity_id", [contact_id]
    )
    return [(actor, action, json.loads(changes) if changes else None) for actor, action, changes in found]


@pytest.fixture
def ada(fresh_db):
    return create_contact(
        fresh_db, ContactInput(first_name="Ada", last_name="Lovelace", email="ada@example.com"), "admin"
    )


def define_typed_fields(con) -> None:
    define_custom_field(con, "member_no", "Member number", "text", actor="admin")
    define_custom_field(con, "score", "Score", "number", actor="admin")
    define_custom_field(con, "vip", "VIP", "checkbox", actor="admin")
    define_custom_field(con, "renewal", "Renewal", "datetime", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro", "Enterprise"], actor="admin")


@pytest.fixture
def typed_fields(fresh_db):
    define_typed_fields(fresh_db)


@pytest.fixture
def fresh_db(fresh_db):
    """The new database with two more users: Bob (an admin, who deletes) and Carol (an agent, who edits)."""
    add_owner(fresh_db, "bob", "Bob", role="admin", actor="admin")
    add_owner(fresh_db, "carol", "Carol", actor="admin")
    return fresh_db


@pytest.fixture(scope="module")
def shared_db():
    """One database for tests that check what is refused, or that work on a contact of their own."""
    con = open_database()
    bootstrap_admin(con)
    define_typed_fields(con)
    add_owner(con, "bob", "Bob", role="admin", actor="admin")
    add_owner(con, "carol", "Carol", actor="admin")
    yield con
    con.close()


_serial = itertools.count(1)


def new_contact(con) -> Contact:
    """A contact of the calling test's own, named like Ada."""
    number = next(_serial)
    return create_contact(
        con, ContactInput(first_name="Ada", last_name="Lovelace", email=f"ada{number}@example.com"), "admin"
    )


# --- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [{"email": "ada@example.com"}, {"phone": "(415) 555-0132"}, {"contact_id": "cust-0001"}],
)
def test_create_needs_only_one_of_email_phone_or_contact_id(fresh_db, given):
    contact = create_contact(fresh_db, ContactInput(**given), "admin")
    assert find_contact(fresh_db, contact.contact_id) == contact
    assert scalar(fresh_db, "SELECT count(*) FROM contacts") == 1


@pytest.mark.parametrize(
    "given",
    [{}, {"first_name": "Ada", "last_name": "Lovelace"}, {"email": "  ", "phone": "", "contact_id": " "}],
)
def test_create_without_email_phone_or_contact_id_is_refused(shared_db, given):
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        create_contact(shared_db, ContactInput(**given), "admin")
    assert raised.value.field == "email"
    assert "email, phone or contact ID" in raised.value.message
    assert table_counts(shared_db) == before


def test_create_defaults(fresh_db):
    contact = create_contact(fresh_db, ContactInput(email=" Ada@Example.COM ", phone="415.555.0132"), "admin")
    assert re.fullmatch(r"[0-9a-f]{16}", contact.contact_id)
    assert contact.lead_stage == "Contact"
    assert contact.source == "manual"
    assert contact.version == 1
    assert contact.email == "ada@example.com"
    assert (contact.phone, contact.phone_raw) == ("+14155550132", "415.555.0132")
    assert (contact.email_subscription, contact.sms_subscription) == ("not set", "not set")
    assert contact.blocked is False
    assert contact.created_on == contact.last_updated


def test_generated_ids_are_distinct(shared_db):
    ids = {new_contact(shared_db).contact_id for _ in range(10)}
    assert len(ids) == 10


def test_create_with_a_given_stage_owner_and_tags(fresh_db):
    contact = create_contact(
        fresh_db,
        ContactInput(
            contact_id="cust-1",
            email="a@example.com",
            lead_stage="Qualified",
            owner_id="bob",
            tags=["vip", " vip", "eu"],
        ),
        "admin",
    )
    assert (contact.contact_id, contact.lead_stage, contact.owner_id) == ("cust-1", "Qualified", "bob")
    assert contact.tags == ["vip", "eu"]


def test_a_given_contact_id_must_be_new(fresh_db):
    create_contact(fresh_db, ContactInput(contact_id="cust-1", email="a@example.com"), "admin")
    before = table_counts(fresh_db)
    with pytest.raises(ContactsError) as raised:
        create_contact(fresh_db, ContactInput(contact_id="cust-1", email="b@example.com"), "admin")
    assert raised.value.field == "contact_id"
    assert "cust-1" in raised.value.message
    assert table_counts(fresh_db) == before
    assert get_contact(fresh_db, "cust-1").email == "a@example.com"


@pytest.mark.parametrize("contact_id", ["has space", "x" * 65])
def test_a_malformed_contact_id_is_refused(shared_db, contact_id):
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        create_contact(shared_db, ContactInput(contact_id=contact_id), "admin")
    assert raised.value.field == "contact_id"
    assert table_counts(shared_db) == before


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "ada@example.com", "phone": "call me"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"email": "ada@example.com", "lead_stage": "Prospect"}, "lead_stage"),
        ({"email": "ada@example.com", "owner_id": "nobody"}, "owner_id"),
        ({"email": "ada@example.com", "first_name": "A" * 2001}, "first_name"),
        ({"email": "ada@example.com", "custom": {"score": "lots"}}, "custom.score"),
        ({"email": "ada@example.com", "custom": {"unknown": "x"}}, "custom.unknown"),
    ],
)
def test_invalid_input_on_create_writes_nothing(shared_db, given, field):
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        create_contact(shared_db, ContactInput(**given), "admin")
    assert raised.value.field == field
    assert table_counts(shared_db) == before


def test_create_records_activity(fresh_db, ada):
    [(actor, action, changes)] = activity_of(fresh_db, ada.contact_id)
    assert (actor, action) == ("admin", "created")
    assert changes["email"] == {"before": None, "after": "ada@example.com"}
    assert changes["lead_stage"] == {"before": None, "after": "Contact"}


def test_get_contact_of_an_unknown_id_raises_stale(fresh_db):
    assert find_contact(fresh_db, "nope") is None
    with pytest.raises(StaleContactError):
        get_contact(fresh_db, "nope")


# --- update ------------------------------------------------------------------------------------


def test_update_changes_fields_bumps_version_and_records_before_and_after(fresh_db, ada):
    updated = update_contact(
        fresh_db, ada.contact_id, {"first_name": "Augusta", "phone": "+1 (415) 555-0132"}, 1, "bob"
    )
    assert (updated.first_name, updated.last_name, updated.phone) == ("Augusta", "Lovelace", "+14155550132")
    assert updated.version == 2
    assert updated.last_updated >= ada.last_updated
    actor, action, changes = activity_of(fresh_db, ada.contact_id)[-1]
    assert (actor, action) == ("bob", "updated")
    assert changes == {
        "first_name": {"before": "Ada", "after": "Augusta"},
        "phone": {"before": None, "after": "+14155550132"},
        "phone_raw": {"before": None, "after": "+1 (415) 555-0132"},
    }


def test_update_without_a_real_change_writes_nothing(fresh_db, ada):
    same = update_contact(fresh_db, ada.contact_id, {"first_name": " Ada ", "email": "ADA@example.com"}, 1, "bob")
    assert same.version == 1
    assert len(activity_of(fresh_db, ada.contact_id)) == 1


def test_clearing_a_field_stores_null(fresh_db, ada):
    updated = update_contact(fresh_db, ada.contact_id, {"last_name": "  "}, 1, "bob")
    assert updated.last_name is None
    assert activity_of(fresh_db, ada.contact_id)[-1][2] == {"last_name": {"before": "Lovelace", "after": None}}


@pytest.mark.parametrize("new_id", ["other-id", "", None])
def test_the_contact_id_can_never_change(shared_db, new_id):
    ada = new_contact(shared_db)
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        update_contact(shared_db, ada.contact_id, {"contact_id": new_id, "first_name": "Eve"}, 1, "bob")
    assert raised.value.field == "contact_id"
    assert table_counts(shared_db) == before
    assert get_contact(shared_db, ada.contact_id) == ada


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "ada@"}, "email"),
        ({"first_name": "Augusta", "phone": "not a phone"}, "phone"),
        ({"lead_stage": ""}, "lead_stage"),
        ({"lead_stage": "Prospect"}, "lead_stage"),
        ({"email_subscription": "maybe"}, "email_subscription"),
        ({"birthday": "23/04/1990"}, "birthday"),
        ({"created_on": "2020-01-01"}, "created_on"),
        ({"version": 7}, "version"),
        ({"no_such_field": "x"}, "no_such_field"),
        ({"custom.plan": "Platinum"}, "custom.plan"),
    ],
)
def test_invalid_input_on_update_writes_nothing(shared_db, changes, field):
    ada = new_contact(shared_db)
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        update_contact(shared_db, ada.contact_id, changes, 1, "bob")
    assert raised.value.field == field
    assert table_counts(shared_db) == before
    assert get_contact(shared_db, ada.contact_id) == ada


def test_update_with_a_stale_version_is_refused_and_changes_nothing(fresh_db, ada):
    update_contact(fresh_db, ada.contact_id, {"company": "Analytical Engines"}, 1, "bob")
    current = get_contact(fresh_db, ada.contact_id)
    before = table_counts(fresh_db)
    with pytest.raises(StaleContactError) as raised:
        update_contact(fresh_db, ada.contact_id, {"company": "Babbage & Co"}, 1, "carol")
    assert "Someone else changed this contact" in raised.value.message
    assert get_contact(fresh_db, ada.contact_id) == current
    assert table_counts(fresh_db) == before


def test_two_users_editing_the_same_version_first_wins_second_is_refused(fresh_db, ada):
    seen_by_bob = get_contact(fresh_db, ada.contact_id)
    seen_by_carol = get_contact(fresh_db, ada.contact_id)
    assert seen_by_bob.version == seen_by_carol.version == 1

    update_contact(fresh_db, ada.contact_id, {"job_title": "Mathematician"}, seen_by_bob.version, "bob")
    with pytest.raises(StaleContactError):
        update_contact(fresh_db, ada.contact_id, {"job_title": "Poet"}, seen_by_carol.version, "carol")

    final = get_contact(fresh_db, ada.contact_id)
    assert (final.job_title, final.version) == ("Mathematician", 2)
    assert [action for actor, action, _ in activity_of(fresh_db, ada.contact_id)] == ["created", "updated"]


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda con, cid: update_contact(con, cid, {"company": "Babbage & Co"}, 1, "carol"), "while you were saving"),
        (lambda con, cid: set_blocked(con, [cid], True, "carol"), "changed by someone else meanwhile"),
    ],
    ids=["update", "block"],
)
def test_a_write_meeting_another_connections_open_write_is_refused_as_stale(fresh_db, ada, write, message):
    """Another user's write still in flight (a bulk action, a merge) makes this one fail clearly; neither is lost.

    (DuckDB 2.0.1 skips this conflict check for UPDATE ... RETURNING: core must not use it on contacts.)
    """
    other = fresh_db.cursor()
    other.execute("BEGIN TRANSACTION")
    bump = "UPDATE contacts SET job_title = 'Poet', version = version + 1 WHERE contact_id = ?"
    other.execute(bump, [ada.contact_id])
    with pytest.raises(StaleContactError, match=message):
        write(fresh_db, ada.contact_id)
    other.execute("COMMIT")
    final = get_contact(fresh_db, ada.contact_id)
    assert (final.job_title, final.company, final.blocked, final.version) == ("Poet", None, False, 2)


def test_updating_a_deleted_contact_raises_stale(fresh_db, ada):
    delete_contacts(fresh_db, [ada.contact_id], "bob", 1)
    with pytest.raises(StaleContactError):
        update_contact(fresh_db, ada.contact_id, {"first_name": "Augusta"}, 1, "carol")
    assert table_counts(fresh_db)["contacts"] == 0


# --- custom values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("member_no", "  M-0042 ", "M-0042"),
        ("score", "12.50", "12.5"),
        ("score", "7", "7"),
        ("score", "7.0", "7"),
        ("score", "-0.25", "-0.25"),
        ("score", "1e3", "1000"),
        ("score", 42, "42"),
        ("vip", "yes", "true"),
        ("vip", "TRUE", "true"),
        ("vip", True, "true"),
        ("vip", "no", "false"),
        ("vip", False, "false"),
        ("renewal", "2024-05-01 14:30", "2024-05-01 14:30:00"),
        ("renewal", "2024-05-01T14:30:15", "2024-05-01 14:30:15"),
        ("renewal", datetime(2024, 5, 1, 9, 0), "2024-05-01 09:00:00"),
        ("plan", "Pro", "Pro"),
        ("plan", " Enterprise ", "Enterprise"),
    ],
)
def test_custom_values_are_stored_canonically(shared_db, key, typed, stored):
    contact = create_contact(shared_db, ContactInput(email="a@example.com", custom={key: typed}), "admin")
    assert contact.custom == {key: stored}
    found = list(read_values(shared_db, [contact.contact_id]).get(contact.contact_id, {}).items())
    assert found == [(key, stored)]


@pytest.mark.parametrize(
    ("key", "typed"),
    [
        ("score", "lots"),
        ("score", "12,5"),
        ("score", "nan"),
        ("score", "inf"),
        ("score", "-Infinity"),
        ("score", "1e999"),
        ("vip", "maybe"),
        ("renewal", "next tuesday"),
        ("renewal", "2024-13-01 10:00"),
        ("plan", "Platinum"),
        ("plan", "pro"),
        ("member_no", "x" * 2001),
    ],
)
def test_invalid_custom_values_are_refused(shared_db, key, typed):
    ada = new_contact(shared_db)
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        update_contact(shared_db, ada.contact_id, {f"custom.{key}": typed}, 1, "bob")
    assert raised.value.field == f"custom.{key}"
    assert table_counts(shared_db) == before
    assert get_contact(shared_db, ada.contact_id) == ada


def test_custom_values_update_and_clear_with_activity(fresh_db, typed_fields, ada):
    first = update_contact(fresh_db, ada.contact_id, {"custom.plan": "Pro", "custom.score": "3"}, 1, "bob")
    assert first.custom == {"plan": "Pro", "score": "3"}
    second = update_contact(fresh_db, ada.contact_id, {"custom.plan": "Enterprise", "custom.score": ""}, 2, "bob")
    assert second.custom == {"plan": "Enterprise"}
    assert second.version == 3
    assert activity_of(fresh_db, ada.contact_id)[-1][2] == {
        "custom.plan": {"before": "Pro", "after": "Enterprise"},
        "custom.score": {"before": "3", "after": None},
    }


# --- block -------------------------------------------------------------------------------------


def test_block_and_unblock_toggle_and_record_activity(fresh_db, ada):
    other = create_contact(fresh_db, ContactInput(email="b@example.com"), "admin")
    assert set_blocked(fresh_db, [ada.contact_id, other.contact_id], True, "bob") == 2
    blocked = get_contact(fresh_db, ada.contact_id)
    assert blocked.blocked is True
    assert blocked.blocked_on is not None
    assert blocked.version == 2

    assert set_blocked(fresh_db, [ada.contact_id], True, "bob") == 0  # already blocked: no change

    assert set_blocked(fresh_db, [ada.contact_id], False, "carol") == 1
    unblocked = get_contact(fresh_db, ada.contact_id)
    assert (unblocked.blocked, unblocked.blocked_on, unblocked.version) == (False, None, 3)
    assert get_contact(fresh_db, other.contact_id).blocked is True

    assert activity_of(fresh_db, ada.contact_id)[1:] == [
        ("bob", "blocked", {"blocked": {"before": False, "after": True}}),
        ("carol", "unblocked", {"blocked": {"before": True, "after": False}}),
    ]


def test_block_of_unknown_ids_changes_nothing(fresh_db, ada):
    assert set_blocked(fresh_db, ["nope"], True, "bob") == 0
    assert get_contact(fresh_db, ada.contact_id) == ada


# --- delete ------------------------------------------------------------------------------------


def _add_related(con, contact_id: str) -> None:
    at = datetime(2024, 1, 2, 3, 4, 5)
    con.execute(
        "INSERT INTO conversations (contact_id, channel, kind, subject, started_at, last_message_at) "
        "VALUES (?, 'web', 'webchat', 'Pricing', ?, ?)",
        [contact_id, at, at],
    )
    con.execute("INSERT INTO tickets (contact_id, subject, created_at) VALUES (?, 'Refund', ?)", [contact_id, at])
    con.execute(
        "INSERT INTO notes (contact_id, author, body, created_at) VALUES (?, 'bob', 'Called', ?)", [contact_id, at]
    )
    con.execute(
        "INSERT INTO media (contact_id, file_name, mime_type, size_bytes, created_at) "
        "VALUES (?, 'invoice.pdf', 'application/pdf', 20480, ?)",
        [contact_id, at],
    )
    write_values(con, contact_id, {"member_no": "M-1"})


@pytest.mark.parametrize("typed", [0, 1, "3", "two", "", "2x"])
def test_delete_with_the_wrong_count_deletes_nothing(shared_db, typed):
    ada, other = new_contact(shared_db), new_contact(shared_db)
    _add_related(shared_db, ada.contact_id)
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        delete_contacts(shared_db, [ada.contact_id, other.contact_id], "bob", typed)
    assert raised.value.field == "confirm"
    assert "Type 2" in raised.value.message
    assert table_counts(shared_db) == before


def test_delete_cascades_to_everything_that_belongs_to_the_contacts_and_is_logged(fresh_db, typed_fields, ada):
    other = create_contact(fresh_db, ContactInput(email="b@example.com"), "admin")
    kept = create_contact(fresh_db, ContactInput(email="keep@example.com"), "admin")
    for contact in (ada, other, kept):
        _add_related(fresh_db, contact.contact_id)

    assert delete_contacts(fresh_db, [ada.contact_id, other.contact_id, ada.contact_id], "bob", " 2 ") == 2

    assert rows(fresh_db, "SELECT contact_id FROM contacts") == [(kept.contact_id,)]
    for table in RELATED:
        owners = {contact_id for (contact_id,) in rows(fresh_db, f"SELECT DISTINCT contact_id FROM {table}")}
        assert owners == {kept.contact_id}, table
    logged = rows(fresh_db, "SELECT actor, contact_id, snapshot FROM deletion_log ORDER BY contact_id")
    assert sorted((actor, contact_id) for actor, contact_id, _ in logged) == sorted(
        [("bob", ada.contact_id), ("bob", other.contact_id)]
    )
    snapshots = {contact_id: json.loads(snapshot) for _, contact_id, snapshot in logged}
    assert snapshots[ada.contact_id]["email"] == "ada@example.com"
    assert snapshots[ada.contact_id]["first_name"] == "Ada"


def test_delete_of_one_contact(fresh_db, ada):
    assert delete_contacts(fresh_db, [ada.contact_id], "bob", 1) == 1
    assert find_contact(fresh_db, ada.contact_id) is None


# --- notes -------------------------------------------------------------------------------------


def test_add_note_appears_in_the_timeline(fresh_db, ada):
    add_note(fresh_db, ada.contact_id, "  Prefers email. <b>not bold</b>  ", "bob")
    assert rows(fresh_db, "SELECT author, body FROM notes") == [("bob", "Prefers email. <b>not bold</b>")]
    entries = timeline(fresh_db, ada.contact_id)
    notes = entries.filter(entries["kind"] == "note")
    assert notes["title"].to_list() == ["Note by bob"]
    assert notes["detail"].to_list() == ["Prefers email. <b>not bold</b>"]
    assert activity_of(fresh_db, ada.contact_id)[-1] == ("bob", "note added", None)


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 10_001])
def test_add_note_validates_the_body(shared_db, body):
    ada = new_contact(shared_db)
    before = table_counts(shared_db)
    with pytest.raises(ContactsError) as raised:
        add_note(shared_db, ada.contact_id, body, "bob")
    assert raised.value.field == "note"
    assert table_counts(shared_db) == before


def test_add_note_to_a_deleted_contact_raises_stale(fresh_db, ada):
    delete_contacts(fresh_db, [ada.contact_id], "bob", 1)
    with pytest.raises(StaleContactError):
        add_note(fresh_db, ada.contact_id, "hello", "bob")
    assert scalar(fresh_db, "SELECT count(*) FROM notes") == 0


def test_a_batch_of_new_contact_ids_is_shaped_like_one_and_never_repeats():
    ids = new_contact_ids(100_000)
    assert ids.len() == 100_000 and ids.n_unique() == 100_000
    assert ids.str.contains("^[0-9a-f]{16}$").all()
    assert re.fullmatch("[0-9a-f]{16}", new_contact_id())
    assert new_contact_ids(0).len() == 0
