"""A contact's timeline: every kind of record, newest first, with readable activity."""

import json
from datetime import datetime

import pytest

from core.contacts.activity import changes_json, describe_changes, record_activity
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.contacts.timeline import related_counts, timeline
from core.workspace import add_owner


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 3, day, hour, 0)


@pytest.fixture
def history(fresh_db):
    """Contact 'ada' with one record of each kind on days 1 to 5, and 'bob' with one note."""
    con = fresh_db
    con.execute(
        "INSERT INTO conversations (contact_id, channel, kind, subject, started_at, last_message_at, message_count) "
        "VALUES ('ada', 'WhatsApp', 'inbox', 'Pricing', ?, ?, 3)",
        [at(1), at(1, 14)],
    )
    con.execute(
        "INSERT INTO tickets (contact_id, subject, priority, created_at) VALUES ('ada', 'Refund', 'high', ?)", [at(2)]
    )
    con.execute(
        "INSERT INTO notes (contact_id, author, body, created_at) VALUES ('ada', 'bob', 'Call back', ?)", [at(3)]
    )
    con.execute(
        "INSERT INTO media (contact_id, file_name, mime_type, size_bytes, created_at) "
        "VALUES ('ada', 'invoice.pdf', 'application/pdf', 20480, ?)",
        [at(4)],
    )
    record_activity(con, "ada", "carol", "updated", changes_json({"email": "a@x.com"}, {"email": "b@x.com"}), at=at(5))
    con.execute("INSERT INTO notes (contact_id, author, body, created_at) VALUES ('bob', 'carol', 'Other', ?)", [at(6)])
    return con


def test_timeline_holds_every_kind_newest_first(history):
    entries = timeline(history, "ada")
    assert entries.columns == ["happened_at", "kind", "title", "detail"]
    assert entries.rows() == [
        (at(5), "activity", "updated by carol", "Email: a@x.com → b@x.com"),
        (at(4), "media", "invoice.pdf", "application/pdf, 20 KB"),
        (at(3), "note", "Note by bob", "Call back"),
        (at(2), "ticket", "Ticket: Refund", "open, high priority"),
        (at(1), "conversation", "WhatsApp conversation: Pricing", "3 messages, last 2024-03-01 14:00, open"),
    ]


def test_timeline_limit_keeps_the_newest(history):
    assert timeline(history, "ada", limit=2)["kind"].to_list() == ["activity", "media"]


def test_timeline_of_a_contact_without_records_is_empty(history):
    entries = timeline(history, "nobody")
    assert entries.height == 0
    assert entries.columns == ["happened_at", "kind", "title", "detail"]


def test_related_counts(history):
    assert related_counts(history, "ada") == {"conversation": 1, "ticket": 1, "note": 1, "media": 1, "activity": 1}
    assert related_counts(history, "bob") == {"conversation": 0, "ticket": 0, "note": 1, "media": 0, "activity": 0}


def test_edits_show_in_the_timeline_with_before_and_after(fresh_db):
    contact = create_contact(
        fresh_db, ContactInput(contact_id="ada", email="ada@example.com", first_name="Ada"), "admin"
    )
    add_owner(fresh_db, "bob", "Bob", actor="admin")
    update_contact(fresh_db, contact.contact_id, {"first_name": "Augusta", "tags": ["vip", "eu"]}, 1, "bob")
    entries = timeline(fresh_db, "ada")
    newest = entries.row(0, named=True)
    assert (newest["kind"], newest["title"]) == ("activity", "updated by bob")
    assert newest["detail"].splitlines() == ["First name: Ada → Augusta", "Tags: (empty) → vip, eu"]
    assert entries["title"].to_list()[-1] == "created by admin"


@pytest.mark.parametrize(
    ("changes", "described"),
    [
        (None, ""),
        ("", ""),
        (json.dumps({"email": {"before": "a@x.com", "after": "b@x.com"}}), "Email: a@x.com → b@x.com"),
        (json.dumps({"email": {"before": None, "after": "b@x.com"}}), "Email: b@x.com"),
        (json.dumps({"phone": {"before": "+14155550132", "after": None}}), "Phone: +14155550132 → (empty)"),
        (json.dumps({"tags": {"before": ["a"], "after": ["a", "b"]}}), "Tags: a → a, b"),
        (json.dumps({"custom.plan": {"before": "Free", "after": "Pro"}}), "plan: Free → Pro"),
        (
            json.dumps({"first_name": {"before": "Ada", "after": "Eve"}, "blocked": {"before": False, "after": True}}),
            "First name: Ada → Eve\nBlocked: False → True",
        ),
        (json.dumps({"merged_from": ["c1", "c2"]}), "merged_from: c1, c2"),
        (json.dumps(["free text"]), "['free text']"),
    ],
)
def test_describe_changes(changes, described):
    assert describe_changes(changes) == described


def test_changes_json_keeps_only_differences():
    before = {"email": "a@x.com", "phone": None, "birthday": None}
    after = {"email": "a@x.com", "phone": "+14155550132", "birthday": datetime(1990, 4, 23)}
    assert json.loads(changes_json(before, after)) == {
        "phone": {"before": None, "after": "+14155550132"},
        "birthday": {"before": None, "after": "1990-04-23T00:00:00"},
    }
