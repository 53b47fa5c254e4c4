"""Contacts created by the channels: visitors, Inbox senders, identities, conversations, blocking, bad lines."""

import json
import threading
from datetime import datetime

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.channels.writing
from core.accounts.users import bootstrap_admin
from core.channels.events import clean_email, parse_event
from core.channels.ingest import IngestReport, ingest_lines
from core.channels.names import FIRST_NAMES, LAST_NAMES
from core.channels.reading import (
    chat_button_visible,
    contact_conversations,
    contact_identities,
    conversation_messages,
    recent_ingest_runs,
    refused_count,
)
from core.cli import main
from core.contacts.normalize import normalize_email
from core.contacts.records import delete_contacts, get_contact, set_blocked
from core.db import open_database, rows, scalar
from core.errors import ContactsError


def line(**event: object) -> str:
    """One event as a JSON line; `at` defaults to a fixed morning."""
    return json.dumps({"at": "2026-11-25T09:00:00Z", **event})


def ingest(con: duckdb.DuckDBPyConnection, *lines: str) -> IngestReport:
    return ingest_lines(con, list(lines), actor="admin")


def count(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> int:
    return scalar(con, sql, params)


# --- Web Chat visitors ---


def test_a_new_visitor_without_a_name_gets_a_generated_human_name(fresh_db):
    report = ingest(fresh_db, line(type="webchat", contact_id="cookie-1", browser="Firefox 133"))
    contact = get_contact(fresh_db, "cookie-1")
    assert (report.created, report.updated, report.conversations_opened) == (1, 0, 1)
    assert (contact.lead_stage, contact.source, contact.channel) == ("Lead", "web chat", "web")
    assert contact.name_generated is True
    assert contact.first_name in FIRST_NAMES and contact.last_name in LAST_NAMES
    assert contact.browser == "Firefox 133"
    assert contact.last_seen == datetime(2026, 11, 25, 9, 0)


def test_a_visitor_without_a_cookie_gets_a_generated_contact_id(fresh_db):
    ingest(fresh_db, line(type="webchat", ip_address="203.0.113.7"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    assert len(contact_id) == 16 and int(contact_id, 16) >= 0


def test_a_new_visitor_with_a_name_keeps_it(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c2", name="Maria de la Cruz", email="Maria@Example.com"))
    contact = get_contact(fresh_db, "c2")
    assert (contact.first_name, contact.last_name, contact.name_generated) == ("Maria", "de la Cruz", False)
    assert contact.email == "maria@example.com"


def test_a_real_name_given_later_replaces_the_generated_one(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c3"))
    ingest(fresh_db, line(type="webchat", contact_id="c3", name="Ada Lovelace", at="2026-11-25T10:00:00Z"))
    contact = get_contact(fresh_db, "c3")
    assert (contact.first_name, contact.last_name, contact.name_generated) == ("Ada", "Lovelace", False)
    ingest(fresh_db, line(type="webchat", contact_id="c3", name="Someone Else", at="2026-11-25T11:00:00Z"))
    assert get_contact(fresh_db, "c3").first_name == "Ada"  # a real name is never overwritten


def test_a_returning_visitor_is_updated_not_duplicated(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c4", browser="Chrome 130", page_url="https://shop.example/"))
    report = ingest(
        fresh_db,
        line(
            type="webchat",
            contact_id="c4",
            browser="Chrome 131",
            page_url="https://shop.example/pricing",
            utm_campaign="spring",
            at="2026-11-26T08:00:00Z",
            text="Hello again",
        ),
    )
    contact = get_contact(fresh_db, "c4")
    assert (report.created, report.updated) == (0, 1)
    assert count(fresh_db, "SELECT count(*) FROM contacts") == 1
    assert (contact.browser, contact.utm_campaign) == ("Chrome 131", "spring")
    assert contact.first_visit_url == "https://shop.example/"
    assert contact.last_seen == contact.last_contacted == datetime(2026, 11, 26, 8, 0)


def test_events_of_one_run_see_the_contact_an_earlier_line_created(fresh_db):
    report = ingest(
        fresh_db,
        line(type="webchat", contact_id="c5", text="hi"),
        line(type="webchat", contact_id="c5", text="anyone?", at="2026-11-25T09:02:00Z"),
    )
    assert (report.created, report.conversations_opened, report.conversations_continued) == (1, 1, 1)
    conversations = contact_conversations(fresh_db, "c5")
    assert conversations["message_count"].to_list() == [2]
    assert conversations["last_message_at"].to_list() == [datetime(2026, 11, 25, 9, 2)]


def test_a_message_a_day_later_opens_a_new_conversation(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c6", text="hi"))
    report = ingest(fresh_db, line(type="webchat", contact_id="c6", text="back", at="2026-11-27T09:00:00Z"))
    assert report.conversations_opened == 1
    assert len(contact_conversations(fresh_db, "c6")) == 2


def test_creation_is_in_the_activity_log(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c7", name="Grace Hopper"))
    actor, action, changes = rows(fresh_db, "SELECT actor, action, changes FROM activity WHERE contact_id = 'c7'")[0]
    assert (actor, action) == ("web chat", "created")
    assert json.loads(changes)["first_name"]["after"] == "Grace"
    # A time as DuckDB's JSON writes it, on either store.
    assert json.loads(changes)["created_on"] == {"before": None, "after": "2026-11-25 09:00:00"}


# --- Inbox senders and their identities ---


def test_a_new_inbox_sender_is_a_lead_named_by_its_name(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="whatsapp", social_id="+34612345678", name="Lucía Gómez", text="Hola"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    contact = get_contact(fresh_db, contact_id)
    assert (contact.first_name, contact.last_name, contact.name_generated) == ("Lucía", "Gómez", False)
    assert (contact.lead_stage, contact.source, contact.channel, contact.social_id) == (
        "Lead",
        "inbox",
        "WhatsApp",
        "+34612345678",
    )
    assert contact_identities(fresh_db, contact_id)["channel"].to_list() == ["WhatsApp"]


def test_a_new_inbox_sender_without_a_name_is_named_by_its_social_id(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="LINE", social_id="U4af4980629", text="hi"))
    (first, last, generated) = rows(fresh_db, "SELECT first_name, last_name, name_generated FROM contacts")[0]
    assert (first, last, generated) == ("U4af4980629", None, True)


def test_a_later_message_from_a_known_identity_attaches_to_its_contact(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="Telegram", social_id="tg42", name="Alan Turing", subject="Order"))
    report = ingest(fresh_db, line(type="inbox", channel="telegram", social_id="tg42", at="2026-11-25T09:30:00Z"))
    assert (report.created, report.updated, report.conversations_continued) == (0, 1, 1)
    assert count(fresh_db, "SELECT count(*) FROM contacts") == 1
    assert count(fresh_db, "SELECT message_count FROM conversations") == 2


def test_a_second_channel_identity_joins_the_contact_with_the_same_email(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="WhatsApp", social_id="+14155550101", email="ada@example.com"))
    ingest(fresh_db, line(type="inbox", channel="LINE", social_id="Uada", email="ADA@example.com", text="hi"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    assert sorted(contact_identities(fresh_db, contact_id)["channel"].to_list()) == ["LINE", "WhatsApp"]
    assert sorted(contact_conversations(fresh_db, contact_id)["channel"].to_list()) == ["LINE", "WhatsApp"]
    report = ingest(fresh_db, line(type="inbox", channel="LINE", social_id="Uada", at="2026-11-25T09:10:00Z"))
    assert (report.created, report.updated) == (0, 1)


def test_a_contact_keeps_one_identity_per_channel(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="WhatsApp", social_id="+14155550101", email="bo@example.com"))
    ingest(fresh_db, line(type="inbox", channel="WhatsApp", social_id="+14155550199", email="bo@example.com"))
    assert count(fresh_db, "SELECT count(*) FROM contacts") == 2
    assert count(fresh_db, "SELECT count(DISTINCT contact_id) FROM channel_identities") == 2


def test_an_inbox_sender_matches_a_manual_contact_by_phone(fresh_db):
    from core.contacts.models import ContactInput
    from core.contacts.records import create_contact

    made = create_contact(fresh_db, ContactInput(first_name="Grace", phone="+1 415 555 0101"), "admin")
    ingest(fresh_db, line(type="inbox", channel="SMS", social_id="+14155550101", phone="(415) 555-0101"))
    assert count(fresh_db, "SELECT count(*) FROM contacts") == 1
    assert contact_identities(fresh_db, made.contact_id)["social_id"].to_list() == ["+14155550101"]
    assert get_contact(fresh_db, made.contact_id).source == "manual"


def test_an_identity_whose_contact_is_gone_is_re_pointed(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="Facebook", social_id="fb1", name="Old Owner"))
    fresh_db.execute("DELETE FROM contacts")  # as a merge that forgot the identity would leave it
    report = ingest(fresh_db, line(type="inbox", channel="Facebook", social_id="fb1", at="2026-11-25T09:10:00Z"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    assert report.created == 1
    assert rows(fresh_db, "SELECT contact_id FROM channel_identities") == [(contact_id,)]


def test_times_with_a_zone_are_stored_as_utc(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="tz", at="2026-11-25T10:30:00+01:00"))
    assert get_contact(fresh_db, "tz").last_seen == datetime(2026, 11, 25, 9, 30)


# --- Blocking holds ---


def test_an_event_from_a_contact_blocked_by_cookie_is_refused(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c8", browser="Chrome 130", text="hi"))
    set_blocked(fresh_db, ["c8"], True, "admin")
    before = get_contact(fresh_db, "c8")
    report = ingest(fresh_db, line(type="webchat", contact_id="c8", browser="Edge", at="2026-11-28T09:00:00Z"))
    after = get_contact(fresh_db, "c8")
    assert (report.refused_blocked, report.created, report.updated, report.conversations_opened) == (1, 0, 0, 0)
    assert after == before
    assert len(contact_conversations(fresh_db, "c8")) == 1
    assert refused_count(fresh_db, "c8") == 1
    assert (
        count(fresh_db, "SELECT count(*) FROM activity WHERE contact_id = 'c8' AND action LIKE 'events refused%'") == 1
    )
    assert chat_button_visible(fresh_db, "c8") is False


def test_an_event_from_a_contact_blocked_by_identity_is_refused(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="Instagram", social_id="ig.spam", text="buy now"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    set_blocked(fresh_db, [contact_id], True, "admin")
    report = ingest(
        fresh_db,
        line(type="inbox", channel="Instagram", social_id="ig.spam", text="buy", at="2026-11-29T09:00:00Z"),
        line(type="inbox", channel="Instagram", social_id="ig.spam", text="now", at="2026-11-29T09:01:00Z"),
    )
    assert (report.refused_blocked, report.conversations_opened, report.conversations_continued) == (2, 0, 0)
    assert refused_count(fresh_db, contact_id) == 2
    assert count(fresh_db, "SELECT message_count FROM conversations") == 1


def test_a_new_identity_matching_a_blocked_contact_is_refused(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="email", social_id="spam@example.com", email="spam@example.com"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    set_blocked(fresh_db, [contact_id], True, "admin")
    report = ingest(fresh_db, line(type="inbox", channel="SMS", social_id="+15550001", email="spam@example.com"))
    assert (report.refused_blocked, report.created) == (1, 0)
    assert count(fresh_db, "SELECT count(*) FROM channel_identities") == 1


def test_unblocking_lets_events_through_again(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="c9"))
    set_blocked(fresh_db, ["c9"], True, "admin")
    set_blocked(fresh_db, ["c9"], False, "admin")
    assert ingest(fresh_db, line(type="webchat", contact_id="c9", at="2026-11-25T09:05:00Z")).refused_blocked == 0
    assert chat_button_visible(fresh_db, "c9") is True


def test_the_chat_button_shows_to_unknown_and_cookieless_browsers(fresh_db):
    assert chat_button_visible(fresh_db, None) is True
    assert chat_button_visible(fresh_db, "never-seen") is True


# --- Malformed lines ---


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"type": "webchat", "at": ', "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        (line(type="sms"), "'type' must be 'webchat' or 'inbox'"),
        (line(type="webchat", emial="x@example.com"), "unknown key 'emial'"),
        (json.dumps({"type": "webchat"}), "at: Field required"),
        (line(type="webchat", at="yesterday"), "at:"),
        (line(type="inbox", channel="Myspace", social_id="x"), "channel must be one of"),
        (line(type="inbox", channel="LINE"), "social_id: Field required"),
        (line(type="webchat", email="not-an-email"), "not a valid email address"),
        (line(type="webchat", phone="12"), "phone:"),
        (line(type="webchat", contact_id="has space"), "contact_id:"),
    ],
)
def test_a_malformed_line_is_reported_and_applies_nothing(fresh_db, text, reason):
    report = ingest(
        fresh_db, line(type="webchat", contact_id="good-1"), text, line(type="webchat", contact_id="good-2")
    )
    assert [bad["line"] for bad in report.malformed] == [2]
    assert reason in report.malformed[0]["reason"]
    assert report.created == 2
    assert sorted(r[0] for r in rows(fresh_db, "SELECT contact_id FROM contacts")) == ["good-1", "good-2"]


def test_blank_lines_are_skipped_and_numbering_follows_the_file(fresh_db):
    report = ingest(fresh_db, "", line(type="webchat", contact_id="a"), "   ", "{oops")
    assert report.malformed == [{"line": 4, "reason": report.malformed[0]["reason"]}]
    assert report.events == 2


def test_a_failure_while_writing_applies_nothing(fresh_db, monkeypatch):
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(core.channels.writing, "_write_conversations", broken)
    with pytest.raises(RuntimeError):
        ingest(fresh_db, line(type="webchat", contact_id="z1"), line(type="inbox", channel="SMS", social_id="+1555"))
    assert count(fresh_db, "SELECT count(*) FROM contacts") == 0
    assert count(fresh_db, "SELECT count(*) FROM channel_identities") == 0
    assert count(fresh_db, "SELECT count(*) FROM ingest_runs") == 0


# --- Messages ---


def messages_of(con: duckdb.DuckDBPyConnection, contact_id: str) -> list[tuple]:
    return rows(
        con,
        "SELECT conversation_id, channel, direction, sent_at, text FROM messages WHERE contact_id = ? "
        "ORDER BY sent_at, message_id",
        [contact_id],
    )


def test_every_event_with_a_text_is_a_message_of_its_conversation(fresh_db):
    ingest(
        fresh_db,
        line(type="webchat", contact_id="m1", text="Do you ship to Spain?", at="2026-11-25T09:05:00Z"),
        line(type="webchat", contact_id="m1", browser="Firefox"),  # no text: no message
        line(type="webchat", contact_id="m1", text="  <b>Hello</b>  ", at="2026-11-25T09:01:00Z"),
        line(type="webchat", contact_id="m1", text="Later", at="2026-11-27T09:00:00Z"),  # a new conversation
    )
    conversations = contact_conversations(fresh_db, "m1")
    newer, older = conversations["conversation_id"].to_list()
    assert messages_of(fresh_db, "m1") == [
        (older, "web", "in", datetime(2026, 11, 25, 9, 1), "<b>Hello</b>"),
        (older, "web", "in", datetime(2026, 11, 25, 9, 5), "Do you ship to Spain?"),
        (newer, "web", "in", datetime(2026, 11, 27, 9, 0), "Later"),
    ]
    assert conversation_messages(fresh_db, older)["text"].to_list() == ["<b>Hello</b>", "Do you ship to Spain?"]


def test_inbox_messages_are_kept_per_channel_with_their_times_in_utc(fresh_db):
    ingest(
        fresh_db,
        line(
            type="inbox",
            channel="whatsapp",
            social_id="+34612",
            text="¿Tenéis la talla M?",
            at="2026-11-25T09:31:00+01:00",
        ),
        line(type="inbox", channel="LINE", social_id="ln1", email="x@example.com", text="hello"),
        line(type="inbox", channel="WhatsApp", social_id="+34612", text="¿Y la L?", at="2026-11-25T08:40:00Z"),
    )
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM channel_identities WHERE social_id = '+34612'")[0]
    (conversation_id,) = contact_conversations(fresh_db, contact_id)["conversation_id"].to_list()
    read = conversation_messages(fresh_db, conversation_id)
    assert read.rows() == [
        (datetime(2026, 11, 25, 8, 31), "WhatsApp", "in", "¿Tenéis la talla M?"),
        (datetime(2026, 11, 25, 8, 40), "WhatsApp", "in", "¿Y la L?"),
    ]
    assert count(fresh_db, "SELECT count(*) FROM messages") == 3


def test_replaying_a_file_adds_no_message(fresh_db):
    events = [
        line(type="webchat", contact_id="m2", text="one"),
        line(type="webchat", contact_id="m2", text="one"),  # the same line twice: one message
        line(type="webchat", text="no cookie", ip_address="203.0.113.9"),
        line(type="inbox", channel="SMS", social_id="+1555", text="two", at="2026-11-20T09:00:00Z"),
        line(type="inbox", channel="SMS", social_id="+1555", text="three", at="2026-11-25T09:00:00Z"),
        line(type="webchat", contact_id="m2", text="one", at="2026-11-25T09:00:01Z"),  # another moment: another one
    ]
    ingest(fresh_db, *events)
    before = rows(fresh_db, "SELECT * FROM messages ORDER BY message_id")
    assert len(before) == 5
    ingest(fresh_db, *events)
    ingest(fresh_db, *reversed(events))
    assert rows(fresh_db, "SELECT * FROM messages ORDER BY message_id") == before


def test_a_failed_run_leaves_no_message(fresh_db, monkeypatch):
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(core.channels.writing, "_write_refusals", broken)
    with pytest.raises(RuntimeError):
        ingest(fresh_db, line(type="webchat", contact_id="m3", text="hi"))
    assert count(fresh_db, "SELECT count(*) FROM messages") == 0


def test_deleting_a_contact_deletes_its_messages(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="m4", text="hi"), line(type="webchat", contact_id="m5", text="yo"))
    delete_contacts(fresh_db, ["m4"], "admin", 1)
    assert rows(fresh_db, "SELECT contact_id, text FROM messages") == [("m5", "yo")]


# --- Runs, deletion and idempotence ---


def test_each_run_is_recorded_with_its_counts(fresh_db):
    ingest(fresh_db, line(type="webchat", contact_id="r1"), "{bad")
    runs = recent_ingest_runs(fresh_db)
    assert runs.select("actor", "events", "created", "malformed").row(0) == ("admin", 2, 1, 1)
    assert json.loads(runs["malformed_lines"][0])[0]["line"] == 2


def test_deleting_a_contact_deletes_its_identities_and_refusals(fresh_db):
    ingest(fresh_db, line(type="inbox", channel="WeChat", social_id="wx1"))
    (contact_id,) = rows(fresh_db, "SELECT contact_id FROM contacts")[0]
    set_blocked(fresh_db, [contact_id], True, "admin")
    ingest(fresh_db, line(type="inbox", channel="WeChat", social_id="wx1"))
    delete_contacts(fresh_db, [contact_id], "admin", 1)
    assert count(fresh_db, "SELECT count(*) FROM channel_identities") == 0
    assert count(fresh_db, "SELECT count(*) FROM channel_refusals") == 0


EVENT = st.one_of(
    st.builds(
        lambda cookie, name, minute, text: line(
            type="webchat", contact_id=cookie, name=name, at=f"2026-11-25T09:{minute:02d}:00Z", text=text
        ),
        st.sampled_from([None, "v1", "v2", "v3"]),
        st.sampled_from([None, "Ada Lovelace", "Grace"]),
        st.integers(0, 59),
        st.sampled_from([None, "hi", "hello"]),
    ),
    st.builds(
        lambda channel, social, email, minute, text: line(
            type="inbox",
            channel=channel,
            social_id=social,
            email=email,
            at=f"2026-11-{minute % 3 + 20}T10:{minute:02d}:00Z",  # some a day apart: several conversations
            text=text,
        ),
        st.sampled_from(["WhatsApp", "LINE", "email"]),
        st.sampled_from(["s1", "s2", "s3"]),
        st.sampled_from([None, "a@example.com", "b@example.com"]),
        st.integers(0, 59),
        st.sampled_from([None, "hi", "hello"]),
    ),
    st.just("{not json"),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(EVENT, max_size=25))
def test_ingesting_the_same_events_twice_creates_no_extra_contacts(events):
    con = open_database()
    bootstrap_admin(con)
    first = ingest(con, *events)
    contacts = count(con, "SELECT count(*) FROM contacts")
    identities = count(con, "SELECT count(*) FROM channel_identities")
    messages = count(con, "SELECT count(*) FROM messages")
    second = ingest(con, *events)
    assert second.created == 0
    assert count(con, "SELECT count(*) FROM contacts") == contacts == first.created
    assert count(con, "SELECT count(*) FROM channel_identities") == identities
    assert count(con, "SELECT count(*) FROM messages") == messages
    con.close()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,12}(\.[A-Za-z]{2,6}){1,2}", fullmatch=True))
def test_the_fast_email_path_agrees_with_normalize_email(address):
    try:
        expected = normalize_email(address)
    except ContactsError:
        with pytest.raises(ContactsError):
            clean_email(address)
        return
    assert clean_email(address) == expected


def test_the_documented_examples_parse():
    import core.channels.events as events_module

    examples = [text.strip() for text in (events_module.__doc__ or "").split("\n\n") if text.strip().startswith("{")]
    assert len(examples) == 2
    for example in examples:
        parse_event(" ".join(example.split()))


# --- The command line ---


def test_cli_ingest_block_and_unblock(tmp_path, capsys):
    database, events = tmp_path / "c.duckdb", tmp_path / "events.jsonl"
    con = open_database(database)
    bootstrap_admin(con)  # the CLI acts as an existing user (--user, default admin)
    con.close()
    events.write_text(line(type="webchat", contact_id="cli-1") + "\n" + line(type="webchat", contact_id="cli-2") + "\n")
    assert main(["ingest", str(events), "--db", str(database)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {
        key: report[key] for key in ("created", "updated", "conversations_opened", "refused_blocked", "malformed")
    } == {"created": 2, "updated": 0, "conversations_opened": 2, "refused_blocked": 0, "malformed": []}
    assert main(["block", "cli-1", "cli-2", "--db", str(database)]) == 0
    assert json.loads(capsys.readouterr().out)["blocked"] == 2
    events.write_text(line(type="webchat", contact_id="cli-1", at="2026-11-26T09:00:00Z") + "\n{broken\n")
    assert main(["ingest", str(events), "--db", str(database)]) == 3
    report = json.loads(capsys.readouterr().out)
    assert (report["refused_blocked"], [bad["line"] for bad in report["malformed"]]) == (1, [2])
    assert main(["unblock", "cli-1", "--db", str(database)]) == 0
    assert json.loads(capsys.readouterr().out) == {"unblocked": 1, "unchanged": 0}


def test_cli_block_of_an_unknown_id_changes_nothing(tmp_path, capsys):
    database = tmp_path / "c.duckdb"
    con = open_database(database)
    bootstrap_admin(con)
    ingest(con, line(type="webchat", contact_id="known"))
    con.close()
    assert main(["block", "known", "typo", "--db", str(database)]) == 1
    assert "No contact with ID 'typo'" in capsys.readouterr().err
    con = open_database(database)
    bootstrap_admin(con)
    assert get_contact(con, "known").blocked is False
    con.close()


def test_the_contacts_list_can_show_source_and_channel(fresh_db):
    from core.views.queries import ListView, list_contacts

    ingest(fresh_db, line(type="webchat", contact_id="list-1"), line(type="inbox", channel="WeChat", social_id="wx9"))
    page = list_contacts(fresh_db, ListView(columns=["first_name", "source", "channel"], sort="source"), "admin")
    assert sorted(zip(page.rows["source"], page.rows["channel"], strict=True)) == [
        ("inbox", "WeChat"),
        ("web chat", "web"),
    ]


@settings(max_examples=60, deadline=None)
@given(
    sender=st.text(min_size=1, max_size=20),
    moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)),
    text=st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t),
)
def test_message_keys_are_duckdb_md5_number_bit_for_bit(sender, moment, text):
    """Keys are hashed in Python (PostgreSQL text holds no NUL); the messages stored before were keyed by DuckDB's
    md5_number, and a replay must still find them, on either store (migrate-store copies the keys)."""
    con = duckdb.connect()
    messages = pl.DataFrame(
        {"sender": [sender], "sent_at": [moment], "text": [text]},
        schema={"sender": pl.String, "sent_at": pl.Datetime("us"), "text": pl.String},
    )
    con.register("message_keys", core.channels.writing.message_keys(messages))
    con.register("messages", messages)
    found = con.execute(f"SELECT {core.channels.writing.MESSAGE_KEY_SQL} FROM message_keys").fetchone()[0]
    expected = con.execute(
        "SELECT md5_number(concat_ws(chr(0), sender, strftime(sent_at, '%Y-%m-%dT%H:%M:%S.%f'), text)) FROM messages"
    ).fetchone()[0]
    assert found == expected


@pytest.mark.parametrize("field", ["text", "subject", "social_id"])
def test_a_nul_in_any_value_is_a_malformed_line(fresh_db, field):
    """PostgreSQL text holds no NUL: such a line is refused on both stores alike, and the rest of the file applies."""
    event = {"type": "inbox", "channel": "WhatsApp", "social_id": "nul1", "text": "Hi"} | {field: "a\x00b"}
    report = ingest(fresh_db, line(**event), line(type="inbox", channel="WhatsApp", social_id="ok1", text="Hi"))
    assert [(bad["line"], bad["reason"]) for bad in report.malformed] == [
        (1, f"{field}: the value holds a NUL character")
    ]
    assert report.created == 1 and count(fresh_db, "SELECT count(*) FROM messages") == 1


def test_a_run_meeting_another_writers_change_is_tried_again(fresh_db):
    """Another writer holds an uncommitted change to the contact (another app process's run on PostgreSQL, an edit):
    the run conflicts, is rolled back whole and tried again once that change is committed, then applies."""
    ingest(fresh_db, line(type="webchat", contact_id="c1", name="Ada One"))
    other = fresh_db.cursor()
    other.execute("BEGIN TRANSACTION")
    other.execute("UPDATE contacts SET touches = touches + 1 WHERE contact_id = 'c1'")
    committer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    committer.start()
    try:
        report = ingest(fresh_db, line(type="webchat", contact_id="c1", at="2026-11-25T10:00:00Z", text="again"))
    finally:
        committer.join()
        other.close()
    assert (report.updated, report.created) == (1, 0)
    assert count(fresh_db, "SELECT count(*) FROM messages WHERE contact_id = 'c1'") == 1
    assert count(fresh_db, "SELECT count(*) FROM ingest_runs") == 2  # the retried run recorded once


def test_the_cli_sends_a_part_again_when_the_app_answers_409(tmp_path, monkeypatch):
    """`python -m core ingest --url`: a part the app refused as a conflict (409) is sent again; other refusals stop."""
    import io
    import urllib.error
    import urllib.request

    import core.cli.channels as cli_channels

    events = tmp_path / "events.jsonl"
    events.write_text(line(type="webchat", contact_id="v1") + "\n")
    answers = [409, 409, 200, 401]

    def urlopen(request, timeout):
        code = answers.pop(0)
        if code != 200:
            body = io.BytesIO(json.dumps({"error": "refused"}).encode())
            raise urllib.error.HTTPError(request.full_url, code, "refused", {}, body)  # type: ignore[arg-type]
        return io.BytesIO(json.dumps(IngestReport(events=1, created=1).model_dump()).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(cli_channels, "CONFLICT_WAIT", 0)
    assert cli_channels.send_file(events, "http://localhost:1", "token").created == 1
    with pytest.raises(ContactsError, match="401"):
        cli_channels.send_file(events, "http://localhost:1", "token")
    assert answers == []
