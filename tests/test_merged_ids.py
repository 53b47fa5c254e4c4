"""Merged contact IDs keep leading somewhere: Web Chat cookies and links that still hold a merged ID."""

import json

import polars as pl
import pytest

from core.accounts.users import bootstrap_admin
from core.channels.ingest import ingest_lines
from core.channels.reading import chat_button_visible, contact_conversations
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, delete_contacts, get_contact, set_blocked
from core.db import rows, scalar
from core.duplicates.merge import merge_contacts, merge_groups
from core.duplicates.merged_ids import merged_into


def chat(con, contact_id: str, at: str = "2026-11-28T09:00:00Z", **fields: object):
    event = {"type": "webchat", "contact_id": contact_id, "at": at, "text": "hello", **fields}
    return ingest_lines(con, [json.dumps(event)], actor="admin")


@pytest.fixture
def db(fresh_db):
    bootstrap_admin(fresh_db)
    for contact_id, name in [("a", "Ada"), ("b", "Ada L"), ("c", "Ada Lovelace")]:
        create_contact(fresh_db, ContactInput(contact_id=contact_id, first_name=name), "admin")
    return fresh_db


def test_a_merge_records_where_each_secondary_went(db):
    merge_contacts(db, "c", ["a", "b"], "admin")
    assert merged_into(db, ["a", "b", "c", "zzz"]) == {"a": "c", "b": "c"}


def test_ids_merged_into_a_later_secondary_follow_it_to_the_new_primary(db):
    merge_contacts(db, "b", ["a"], "admin")
    merge_contacts(db, "c", ["b"], "admin")
    assert rows(db, "SELECT merged_id, contact_id FROM merged_ids ORDER BY merged_id") == [("a", "c"), ("b", "c")]


def test_bulk_merge_records_every_secondary(db):
    groups = pl.DataFrame({"primary_id": ["a", "a"], "contact_id": ["a", "b"]})
    merge_groups(db, groups, "admin")
    assert merged_into(db, ["b"]) == {"b": "a"}


def test_a_chat_from_a_merged_cookie_reaches_the_primary_instead_of_bringing_the_secondary_back(db):
    merge_contacts(db, "c", ["a", "b"], "admin")
    report = chat(db, "a", browser="Firefox 140")
    assert (report.created, report.updated) == (0, 1)
    assert scalar(db, "SELECT count(*) FROM contacts WHERE contact_id = 'a'") == 0
    assert get_contact(db, "c").browser == "Firefox 140"
    assert contact_conversations(db, "c")["message_count"].to_list() == [1]


def test_the_chat_button_follows_a_merged_cookie_to_a_blocked_primary(db):
    merge_contacts(db, "c", ["a"], "admin")
    assert chat_button_visible(db, "a") is True
    set_blocked(db, ["c"], True, "admin")
    assert chat_button_visible(db, "a") is False
    assert chat(db, "a").refused_blocked == 1


def test_an_id_in_use_again_belongs_to_its_own_contact(db):
    merge_contacts(db, "c", ["a"], "admin")
    create_contact(db, ContactInput(contact_id="a", first_name="Another"), "admin")
    assert merged_into(db, ["a"]) == {}
    chat(db, "a")
    assert len(contact_conversations(db, "a")) == 1
    assert len(contact_conversations(db, "c")) == 0


def test_deleting_the_primary_forgets_the_ids_merged_into_it(db):
    merge_contacts(db, "c", ["a"], "admin")
    delete_contacts(db, ["c"], "admin", 1)
    assert scalar(db, "SELECT count(*) FROM merged_ids") == 0
    assert chat(db, "a").created == 1  # like any deleted contact's cookie: a new visitor


def test_a_failed_merge_records_nothing(db, monkeypatch):
    import core.duplicates.merge

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(core.duplicates.merge, "_sum_refusals", broken)
    with pytest.raises(RuntimeError):
        merge_contacts(db, "c", ["a"], "admin")
    assert scalar(db, "SELECT count(*) FROM merged_ids") == 0
    assert merged_into(db, ["a"]) == {}
