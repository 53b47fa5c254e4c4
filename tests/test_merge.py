"""Merging contacts: the rules field by field, what moves and what is deleted, refusals, atomicity, and the
preview, merge_contacts and merge_groups agreeing with each other on random contacts."""

import json
from datetime import date, datetime, timedelta
from functools import partial

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.channels.ingest import ingest_lines
from core.channels.reading import contact_conversations, conversation_messages
from core.contacts.activity import now
from core.contacts.custom_values import write_values
from core.contacts.fields import SUBSCRIPTIONS, SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.records import CONTACT_COLUMNS, RELATED_TABLES, get_contact, update_contact
from core.contacts.timeline import timeline
from core.contacts.validation import blank
from core.db import open_database, rows, scalar, scratch
from core.db.connection import is_database_error
from core.duplicates import merge
from core.duplicates.merge import WHITESPACE, merge_contacts, merge_groups
from core.duplicates.merge_plan import (
    MAX_MERGE,
    MOVED_TABLES,
    RULES,
    TOGETHER,
    plan_merge,
    preview_merge,
    recent_first,
)
from core.errors import ContactsError, StaleContactError
from core.workspace import add_owner, define_custom_field

T0 = datetime(2024, 1, 1, 9, 0)
# Related records of the contacts a query `source` (contact_id, moment) lists, one each.
RELATED_INSERTS = {
    "conversations": "INSERT INTO conversations (contact_id, channel, kind, started_at, last_message_at) "
    "SELECT contact_id, 'web', 'webchat', moment, moment FROM {source}",
    "messages": "INSERT INTO messages (message_key, conversation_id, contact_id, channel, sent_at, text) "
    "SELECT md5_number(contact_id || moment::VARCHAR), 1, contact_id, 'web', moment, 'Hi' FROM {source}",
    "tickets": "INSERT INTO tickets (contact_id, subject, created_at) SELECT contact_id, 'Help', moment FROM {source}",
    "notes": "INSERT INTO notes (contact_id, author, body, created_at) "
    "SELECT contact_id, 'admin', 'Hi', moment FROM {source}",
    "media": "INSERT INTO media (contact_id, file_name, mime_type, size_bytes, created_at) "
    "SELECT contact_id, 'a.png', 'image/png', 10, moment FROM {source}",
    "activity": "INSERT INTO activity (contact_id, happened_at, actor, action) "
    "SELECT contact_id, moment, 'admin', 'updated' FROM {source}",
}
DATA_TABLES = ("contacts", *RELATED_TABLES, "messages", "deletion_log")


def prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An admin, an agent and two custom fields."""
    bootstrap_admin(con)
    add_owner(con, "agnes", "Agnes Agent", role="agent", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    define_custom_field(con, "member_no", "Member number", "text", actor="admin")
    return con


@pytest.fixture
def db(fresh_db):
    return prepare(fresh_db)


@pytest.fixture
def add(add_contact):
    """Store a contact exactly as given (blanks of any kind, any times and versions), with its custom values."""
    return partial(add_contact, stored=True)


@pytest.fixture(scope="module")
def shared_db():
    """One database for the property tests, emptied before each example."""
    con = prepare(open_database())
    yield con
    con.close()


def clear(con: duckdb.DuckDBPyConnection) -> None:
    for table in DATA_TABLES:
        con.execute(f"DELETE FROM {table}")


def add_related(con: duckdb.DuckDBPyConnection, table: str, contact_id: str, at: datetime) -> None:
    con.execute(
        RELATED_INSERTS[table].format(source="(SELECT $id AS contact_id, $at AS moment)"), {"id": contact_id, "at": at}
    )


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    tables = rows(
        con,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'",
    )
    return {table: rows(con, f'SELECT * FROM "{table}" ORDER BY ALL') for (table,) in tables}


def merged_activity(con: duckdb.DuckDBPyConnection, contact_id: str) -> dict:
    changes = scalar(con, "SELECT changes FROM activity WHERE contact_id = ? AND action = 'merged'", [contact_id])
    return json.loads(changes)


def counts_of(con: duckdb.DuckDBPyConnection, contact_id: str) -> dict[str, int]:
    return {
        table: scalar(con, f"SELECT count(*) FROM {table} WHERE contact_id = ?", [contact_id]) for table in MOVED_TABLES
    }


# --- The rules, one by one ---


def test_every_stored_field_has_a_rule_in_display_order():
    assert list(RULES) == [f.key for f in SYSTEM_FIELDS if f.key != "contact_id"]
    assert set(RULES) | {"contact_id", "version"} == set(CONTACT_COLUMNS)


def test_the_primary_wins_and_secondaries_fill_its_blanks(db, add):
    add(db, "p", first_name="Ada", email="ada@x.com", company=None, city="  ", birthday=None)
    add(db, "s", first_name="Augusta", email="ada@y.com", company="ACME", city="London", birthday=date(1815, 12, 10))
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.first_name, merged.email) == ("Ada", "ada@x.com")
    assert (merged.company, merged.city, merged.birthday) == ("ACME", "London", date(1815, 12, 10))


def test_the_first_listed_secondary_fills_a_blank(db, add):
    add(db, "p")
    add(db, "s1", company="First", job_title=None)
    add(db, "s2", company="Second", job_title="Engineer")
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert (merged.company, merged.job_title) == ("First", "Engineer")


def test_the_order_of_the_secondaries_decides_which_fills(db, add):
    add(db, "p")
    add(db, "s1", company="First")
    add(db, "s2", company="Second")
    assert merge_contacts(db, "p", ["s2", "s1"], "admin").company == "Second"


def test_a_blank_is_null_or_only_whitespace_of_any_kind(db, add):
    add(db, "p", email="\u00a0\t ", company="")
    add(db, "s", email="ada@x.com", company="ACME")
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.email, merged.company) == ("ada@x.com", "ACME")


def test_a_field_blank_everywhere_is_stored_empty(db, add):
    add(db, "p", company="  ")
    add(db, "s", company="")
    assert merge_contacts(db, "p", ["s"], "admin").company is None


def test_a_phone_is_filled_together_with_the_form_it_was_entered_in(db, add):
    add(db, "p", phone=None, phone_raw=None)
    add(db, "s1", phone="+14155550100", phone_raw=None)
    add(db, "s2", phone="+14155550199", phone_raw="(415) 555-0199")
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert (merged.phone, merged.phone_raw) == ("+14155550100", None)


def test_a_social_id_comes_with_its_channel(db, add):
    add(db, "p", channel="web", social_id=None)
    add(db, "s", channel="WhatsApp", social_id="+4479")
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.channel, merged.social_id) == ("web", None)


def test_a_real_name_replaces_a_generated_one(db, add):
    add(db, "p", first_name="Maya", last_name="Brooks", name_generated=True)
    add(db, "s", first_name="Ada", last_name=None, name_generated=False)
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.first_name, merged.last_name, merged.name_generated) == ("Ada", None, False)


def test_a_generated_name_never_fills_a_real_ones_blank(db, add):
    add(db, "p", first_name="Ada", last_name=None)
    add(db, "s", first_name="Maya", last_name="Brooks", name_generated=True)
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.first_name, merged.last_name, merged.name_generated) == ("Ada", None, False)


def test_a_generated_name_is_kept_when_no_contact_has_a_real_one(db, add):
    add(db, "p", first_name=None, last_name=None)
    add(db, "s1", first_name="Maya", last_name="Brooks", name_generated=True)
    add(db, "s2", first_name="Leo", last_name="Ward", name_generated=True)
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert (merged.first_name, merged.last_name, merged.name_generated) == ("Maya", "Brooks", True)


def test_created_on_is_the_earliest_and_last_updated_the_time_of_the_merge(db, add):
    add(db, "p", created_on=T0, last_updated=T0)
    add(db, "s1", created_on=T0 - timedelta(days=30), last_updated=T0 + timedelta(days=9))
    add(db, "s2", created_on=T0 - timedelta(days=3), last_updated=T0)
    started = now()
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert merged.created_on == T0 - timedelta(days=30)
    assert started <= merged.last_updated <= now()
    assert merged.last_updated == scalar(db, "SELECT happened_at FROM activity WHERE action = 'merged'")


def test_last_seen_and_last_contacted_are_the_latest(db, add):
    add(db, "p", last_seen=T0, last_contacted=None)
    add(db, "s1", last_seen=T0 + timedelta(hours=5), last_contacted=T0 - timedelta(days=1))
    add(db, "s2", last_seen=None, last_contacted=T0 + timedelta(days=1))
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert (merged.last_seen, merged.last_contacted) == (T0 + timedelta(hours=5), T0 + timedelta(days=1))


def test_subscriptions_stage_source_and_blocked_status_stay_the_primarys(db, add):
    add(db, "p", email_subscription="not set", sms_subscription="unsubscribed", lead_stage="Lead", source="web chat")
    add(
        db,
        "s",
        email_subscription="subscribed",
        sms_subscription="subscribed",
        lead_stage="Customer",
        source="import",
        blocked=True,
        blocked_on=T0,
    )
    merged = merge_contacts(db, "p", ["s"], "admin")
    assert (merged.email_subscription, merged.sms_subscription) == ("not set", "unsubscribed")
    assert (merged.lead_stage, merged.source, merged.blocked, merged.blocked_on) == ("Lead", "web chat", False, None)


def test_tags_are_the_union_primarys_first_then_new_ones_in_secondary_order(db, add):
    add(db, "p", tags=["vip", "spring"])
    add(db, "s1", tags=["newsletter", "vip"])
    add(db, "s2", tags=[])
    add(db, "s3", tags=["spring", "beta", "newsletter"])
    merged = merge_contacts(db, "p", ["s1", "s2", "s3"], "admin")
    assert merged.tags == ["vip", "spring", "newsletter", "beta"]


def test_custom_values_follow_the_same_rule(db, add):
    add(db, "p", custom={"plan": "Free", "member_no": " "})
    add(db, "s1", custom={"plan": "Pro"})
    add(db, "s2", custom={"plan": "Pro", "member_no": "M-7"})
    merged = merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert merged.custom == {"plan": "Free", "member_no": "M-7"}
    assert rows(db, "SELECT DISTINCT contact_id FROM custom_values") == [("p",)]


def test_the_version_goes_up_by_one_from_the_primarys(db, add):
    add(db, "p", version=7)
    add(db, "s", version=30)
    assert merge_contacts(db, "p", ["s"], "admin").version == 8


def _columns_but_contact_id(db, table: str) -> list[str]:
    """A table's columns but contact_id, in order (both stores)."""
    found = rows(
        db,
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = current_schema() "
        "AND column_name <> 'contact_id' ORDER BY ordinal_position",
        [table],
    )
    return [column for (column,) in found]


def test_related_records_move_to_the_primary_with_their_times(db, add):
    add(db, "p")
    add(db, "s1")
    add(db, "s2")
    for offset, contact_id in enumerate(["s2", "p", "s1"]):
        for table in MOVED_TABLES:
            add_related(db, table, contact_id, T0 + timedelta(days=offset))
    others = {table: ", ".join(_columns_but_contact_id(db, table)) for table in MOVED_TABLES}
    before = {table: sorted(rows(db, f"SELECT {others[table]} FROM {table}"), key=str) for table in MOVED_TABLES}
    merge_contacts(db, "p", ["s1", "s2"], "admin")
    for table in MOVED_TABLES:
        kept = rows(db, f"SELECT {others[table]} FROM {table} WHERE contact_id = 'p'")
        if table == "activity":  # and the merge's own entry
            kept = [row for row in kept if row[3] != "merged"]
        assert sorted(kept, key=str) == before[table]
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE contact_id <> 'p'") == 0
    days = [moment.date() for moment in timeline(db, "p")["happened_at"]]
    in_timeline = [table for table in MOVED_TABLES if table != "messages"]  # a conversation stands for its messages
    assert days == sorted(days, reverse=True) and len(days) == 3 * len(in_timeline) + 1


def test_ingested_messages_move_with_their_conversations_and_a_replay_adds_none(db):
    events = [
        json.dumps({"type": "webchat", "contact_id": cookie, "at": f"2026-11-25T09:0{n}:00Z", "text": text})
        for n, (cookie, text) in enumerate([("v1", "Hi"), ("v2", "Still there?"), ("v1", "Hello?")])
    ]
    ingest_lines(db, events, "admin")
    merge_contacts(db, "v1", ["v2"], "admin")
    assert rows(db, "SELECT DISTINCT contact_id FROM messages") == [("v1",)]
    texts = [
        conversation_messages(db, conversation_id)["text"].to_list()
        for conversation_id in contact_conversations(db, "v1")["conversation_id"]
    ]
    assert sorted(texts) == [["Hi", "Hello?"], ["Still there?"]]
    ingest_lines(db, events, "admin")  # the merged-away cookie now reaches v1: still the same three messages
    assert scalar(db, "SELECT count(*) FROM messages WHERE contact_id = 'v1'") == 3


def test_channel_identities_move_and_refused_events_are_summed(db, add):
    add(db, "p")
    add(db, "s1")
    add(db, "s2")
    db.execute(
        "INSERT INTO channel_identities VALUES ('WhatsApp', '+4479', 's1', $at, $at), ('LINE', 'U1', 'p', $at, $at)",
        {"at": T0},
    )
    db.execute(
        "INSERT INTO channel_refusals VALUES ('p', 2, $at), ('s1', 3, $later), ('s2', 1, $at)",
        {"at": T0, "later": T0 + timedelta(days=1)},
    )
    merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert rows(db, "SELECT channel, contact_id FROM channel_identities ORDER BY channel") == [
        ("LINE", "p"),
        ("WhatsApp", "p"),
    ]
    assert rows(db, "SELECT * FROM channel_refusals") == [("p", 6, T0 + timedelta(days=1))]


def test_refusals_of_secondaries_give_a_primary_without_any_its_first_row(db, add):
    add(db, "p")
    add(db, "s")
    db.execute("INSERT INTO channel_refusals VALUES ('s', 4, $at)", {"at": T0})
    merge_contacts(db, "p", ["s"], "admin")
    assert rows(db, "SELECT * FROM channel_refusals") == [("p", 4, T0)]


def test_secondaries_are_deleted_and_each_is_logged_with_a_snapshot(db, add):
    add(db, "p")
    add(db, "s1", email="one@x.com")
    add(db, "s2", email="two@x.com")
    merge_contacts(db, "p", ["s1", "s2"], "admin")
    assert rows(db, "SELECT contact_id FROM contacts") == [("p",)]
    logged = rows(db, "SELECT contact_id, actor, snapshot FROM deletion_log ORDER BY contact_id")
    assert [(cid, actor, json.loads(snap)["email"]) for cid, actor, snap in logged] == [
        ("s1", "admin", "one@x.com"),
        ("s2", "admin", "two@x.com"),
    ]
    assert set(json.loads(logged[0][2])) == set(CONTACT_COLUMNS)
    for table in RELATED_TABLES:
        assert scalar(db, f"SELECT count(*) FROM {table} WHERE contact_id IN ('s1', 's2')") == 0


def test_the_primary_gets_one_activity_entry_naming_the_merged_contacts_and_each_change(db, add):
    add(db, "p", first_name="Ada", tags=["vip"], custom={"plan": "Free"})
    add(db, "s1", company="ACME", tags=["beta"], custom={"member_no": "M-7"}, created_on=T0 - timedelta(days=1))
    add(db, "s2", first_name="Augusta", tags=["vip"])
    merge_contacts(db, "p", ["s1", "s2"], "admin")
    entries = rows(db, "SELECT actor, action FROM activity WHERE contact_id = 'p'")
    assert entries == [("admin", "merged")]
    changes = merged_activity(db, "p")
    assert list(changes) == ["merged", "tags", "company", "created_on", "custom.member_no"]
    assert changes["merged"] == {"before": None, "after": ["s1", "s2"]}
    assert changes["tags"] == {"before": ["vip"], "after": ["vip", "beta"]}
    assert changes["company"] == {"before": None, "after": "ACME"}
    assert datetime.fromisoformat(changes["created_on"]["after"]) == T0 - timedelta(days=1)
    assert changes["custom.member_no"] == {"before": None, "after": "M-7"}


def test_duplicated_ids_collapse(db, add):
    add(db, "p")
    add(db, "s", company="ACME")
    merged = merge_contacts(db, "p", ["s", "s", "s"], "admin")
    assert merged.company == "ACME" and merged_activity(db, "p")["merged"]["after"] == ["s"]


def test_twenty_five_contacts_merge(db, add):
    ids = [f"c{n:02d}" for n in range(MAX_MERGE)]
    for contact_id in ids:
        add(db, contact_id, tags=[contact_id])
    merged = merge_contacts(db, ids[0], ids[1:], "admin")
    assert merged.tags == ids and scalar(db, "SELECT count(*) FROM contacts") == 1


# --- Refusals: a clear message, and nothing written ---


@pytest.fixture
def trio(db, add):
    for contact_id in ("p", "s1", "s2"):
        add(db, contact_id, company=contact_id)
        add_related(db, "notes", contact_id, T0)
    return db


@pytest.mark.parametrize(
    ("primary", "secondaries", "actor", "message"),
    [
        ("p", [], "admin", "at least 2 contacts"),
        ("p", ["p"], "admin", "cannot also be a secondary"),
        ("p", ["s1", "p"], "admin", "cannot also be a secondary"),
        ("", ["s1"], "admin", "Choose the primary"),
        ("p", [f"x{n}" for n in range(MAX_MERGE)], "admin", "At most 25 contacts can be merged at one time; 26"),
        ("p", ["s1", "nobody"], "admin", "'nobody'"),
        ("ghost", ["s1"], "admin", "'ghost'"),
        ("p", ["s1"], "agnes", "Only admins can merge"),
    ],
)
def test_a_refused_merge_says_why_and_changes_nothing(trio, primary, secondaries, actor, message):
    before = snapshot(trio)
    with pytest.raises(ContactsError, match=message):
        merge_contacts(trio, primary, secondaries, actor)
    assert snapshot(trio) == before


def test_twenty_six_existing_contacts_are_refused(db, add):
    ids = [f"c{n:02d}" for n in range(MAX_MERGE + 1)]
    for contact_id in ids:
        add(db, contact_id)
    before = snapshot(db)
    with pytest.raises(ContactsError, match="At most 25"):
        merge_contacts(db, ids[0], ids[1:], "admin")
    with pytest.raises(ContactsError, match="At most 25"):
        preview_merge(db, ids[0], ids[1:])
    assert snapshot(db) == before


def test_a_contact_changed_since_the_preview_is_refused_as_stale(trio):
    preview = preview_merge(trio, "p", ["s1", "s2"])
    update_contact(trio, "s2", {"company": "Elsewhere"}, expected_version=1, actor="admin")
    before = snapshot(trio)
    with pytest.raises(StaleContactError, match="'s2' was changed by someone else since the preview; preview again"):
        merge_contacts(trio, "p", ["s1", "s2"], "admin", expected_versions=preview.versions)
    assert snapshot(trio) == before


def test_a_contact_deleted_since_the_preview_is_refused_as_stale(trio):
    preview = preview_merge(trio, "p", ["s1", "s2"])
    trio.execute("DELETE FROM contacts WHERE contact_id = 's1'")
    with pytest.raises(StaleContactError, match="'s1'"):
        merge_contacts(trio, "p", ["s1", "s2"], "admin", expected_versions=preview.versions)


def test_the_versions_of_an_unchanged_preview_let_the_merge_through(trio):
    preview = preview_merge(trio, "p", ["s1", "s2"])
    assert merge_contacts(trio, "p", ["s1", "s2"], "admin", expected_versions=preview.versions).version == 2


def test_a_preview_refuses_what_a_merge_refuses(trio):
    with pytest.raises(ContactsError, match="'nobody'"):
        preview_merge(trio, "p", ["nobody"])
    with pytest.raises(ContactsError, match="at least 2"):
        preview_merge(trio, "p", [])


# --- All or nothing, also with another connection writing ---


def _fail(*args, **kwargs):
    raise RuntimeError("disk unplugged")


@pytest.mark.parametrize("step", ["_rewrite_custom", "_sum_refusals", "_replace_contacts"])
def test_a_failure_in_the_middle_leaves_every_contact_and_record_as_it_was(trio, monkeypatch, step, add):
    trio.execute("INSERT INTO channel_refusals VALUES ('s1', 3, $at)", {"at": T0})
    trio.execute("INSERT INTO channel_identities VALUES ('LINE', 'U1', 's2', $at, $at)", {"at": T0})
    add(trio, "s3", custom={"plan": "Pro"})
    before = snapshot(trio)
    monkeypatch.setattr(merge, step, _fail)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        merge_contacts(trio, "p", ["s1", "s2", "s3"], "admin")
    assert snapshot(trio) == before
    monkeypatch.undo()
    assert merge_contacts(trio, "p", ["s1", "s2", "s3"], "admin").custom == {"plan": "Pro"}


def test_a_failing_statement_rolls_everything_back(trio, monkeypatch):
    def broken(con, members, merged, actor):
        # The primary is still there: a duplicate key (DuckDB's ConstraintException, PostgreSQL's UniqueViolation).
        con.execute(f"INSERT INTO contacts (contact_id, first_name) SELECT contact_id, first_name FROM {merged}")
        return 0

    before = snapshot(trio)
    monkeypatch.setattr(merge, "_replace_contacts", broken)
    with pytest.raises(Exception, match="(?i)duplicate key|constraint") as failed:
        merge_contacts(trio, "p", ["s1", "s2"], "admin")
    assert is_database_error(failed.value)
    assert snapshot(trio) == before


def test_an_edit_committed_by_another_connection_after_the_check_is_not_lost(trio, monkeypatch):
    other = trio.cursor()
    check_versions = merge._check_versions

    def then_someone_edits(con, ids, expected):
        check_versions(con, ids, expected)
        other.execute("UPDATE contacts SET company = 'Concurrent', version = version + 1 WHERE contact_id = 's1'")

    monkeypatch.setattr(merge, "_check_versions", then_someone_edits)
    with pytest.raises(StaleContactError, match="changed by someone else"):
        merge_contacts(trio, "p", ["s1", "s2"], "admin")
    assert rows(trio, "SELECT contact_id, company, version FROM contacts ORDER BY 1") == [
        ("p", "p", 1),
        ("s1", "Concurrent", 2),
        ("s2", "s2", 1),
    ]
    assert rows(trio, "SELECT contact_id FROM notes ORDER BY 1") == [("p",), ("s1",), ("s2",)]


def test_an_edit_by_another_connection_during_the_merge_is_never_lost(trio, monkeypatch):
    """One of the two writers fails (which one is DuckDB's choice); neither silently undoes the other."""
    other = trio.cursor()
    move_related = merge._move_related
    edit_refused = []

    def meanwhile(con, members):
        try:
            update_contact(other, "p", {"company": "Concurrent"}, expected_version=1, actor="admin")
        except StaleContactError as error:  # the conflict, told as the editor would read it
            assert "changed this contact while you were saving" in error.message
            edit_refused.append(True)
        move_related(con, members)

    monkeypatch.setattr(merge, "_move_related", meanwhile)
    try:
        merge_contacts(trio, "p", ["s1", "s2"], "admin")
        merge_refused = False
    except StaleContactError:
        merge_refused = True
    assert bool(edit_refused) != merge_refused  # exactly one of them failed
    companies = rows(trio, "SELECT contact_id, company FROM contacts ORDER BY 1")
    if merge_refused:
        assert companies == [("p", "Concurrent"), ("s1", "s1"), ("s2", "s2")]
    else:
        assert companies == [("p", "p")]


# --- The preview ---


def test_the_preview_shows_each_field_with_its_source_and_whether_the_contacts_differ(db, add):
    add(db, "p", first_name="Ada", email="ada@x.com", tags=["vip"], custom={"plan": "Free"})
    add(db, "s", first_name="Ada", email="ada@y.com", company="ACME", tags=["beta"], custom={"member_no": "M-7"})
    add_related(db, "notes", "s", T0)
    add_related(db, "activity", "s", T0)
    preview = preview_merge(db, "p", ["s"])
    fields = {field.key: field for field in preview.fields}
    assert [field.key for field in preview.fields] == [*RULES, "custom.plan", "custom.member_no"]
    first_name, email, company, job_title = (fields[k] for k in ("first_name", "email", "company", "job_title"))
    assert (first_name.value, first_name.source_id, first_name.differs) == ("Ada", "p", False)
    assert (email.value, email.source_id, email.differs) == ("ada@x.com", "p", True)
    assert (company.value, company.source_id, company.label) == ("ACME", "s", "Company")
    assert (job_title.value, job_title.source_id, job_title.differs) == (None, None, False)
    assert (fields["custom.member_no"].value, fields["custom.member_no"].label) == ("M-7", "Member number")
    assert fields["last_updated"].value is None and fields["last_updated"].rule == "the time of the merge"
    assert preview.tags == ["vip", "beta"] and preview.created_on == T0
    assert preview.moves == {"conversations": 0, "messages": 0, "tickets": 0, "notes": 1, "media": 0, "activity": 1}
    assert preview.versions == {"p": 1, "s": 1} and preview.secondary_ids == ["s"]


def test_plan_merge_needs_no_database():
    def contact(contact_id: str, **fields) -> Contact:
        base = {"lead_stage": "Lead", "email_subscription": "not set", "sms_subscription": "not set"}
        return Contact(
            contact_id=contact_id, source="manual", created_on=T0, last_updated=T0, version=1, **(base | fields)
        )

    preview = plan_merge(
        contact("p", email=" "), [contact("s", email="s@x.com", custom={"plan": "Pro"})], {}, {"plan": "Plan"}
    )
    fields = {field.key: field for field in preview.fields}
    assert (fields["email"].value, fields["email"].source_id) == ("s@x.com", "s")
    assert (fields["custom.plan"].value, fields["custom.plan"].source_id) == ("Pro", "s")


def test_preview_in_recent_order_ranks_secondaries_as_merge_groups_does(db, add):
    add(db, "p")
    add(db, "old", company="Old", last_updated=T0)
    add(db, "new", company="New", last_updated=T0 + timedelta(days=1))
    add(db, "tie", company="Tie", last_updated=T0 + timedelta(days=1))
    preview = preview_merge(db, "p", ["old", "tie", "new"], order="recent")
    assert preview.secondary_ids == ["new", "tie", "old"]
    assert {f.key: f.value for f in preview.fields}["company"] == "New"
    merge_groups(db, pl.DataFrame({"primary_id": ["p"] * 4, "contact_id": ["p", "old", "new", "tie"]}), "admin")
    assert get_contact(db, "p").company == "New"


def test_sql_blank_is_exactly_validation_blank():
    assert WHITESPACE == "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())
    samples = ["", " ", "\u3000\u2028", "\x1c\x85\t", " a ", "\u200b", "\ufeff", "x"]
    con = duckdb.connect()
    found = rows(con, "SELECT s, trim(s, $w) = '' FROM (SELECT unnest($s) AS s)", {"s": samples, "w": WHITESPACE})
    assert dict(found) == {text: blank(text) for text in samples}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(" \t\n\u00a0\u2003\u3000\u200bab\x1c\x85"), max_size=5))
def test_sql_and_python_agree_on_what_is_blank(shared_db, text):
    assert scalar(shared_db, "SELECT trim($s, $w) = ''", {"s": text, "w": WHITESPACE}) == blank(text)


# --- Properties: any 2 to 25 contacts ---

TEXTS = st.sampled_from([None, "", "  ", "\t\u00a0", "x", "y", "Zoë"])
MOMENTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2025, 12, 31))
CONTACTS = st.fixed_dictionaries(
    {
        "first_name": TEXTS,
        "last_name": TEXTS,
        "name_generated": st.booleans(),
        "email": TEXTS,
        "phone": TEXTS,
        "phone_raw": TEXTS,
        "channel": TEXTS,
        "social_id": TEXTS,
        "company": TEXTS,
        "city": TEXTS,
        "birthday": st.none() | st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 1, 1)),
        "lead_stage": st.sampled_from(["Lead", "Customer"]),
        "email_subscription": st.sampled_from(SUBSCRIPTIONS),
        "blocked": st.booleans(),
        "tags": st.lists(st.sampled_from("abcdef"), unique=True, max_size=4),
        "created_on": MOMENTS,
        "last_updated": st.sampled_from([T0, T0 + timedelta(days=1), T0 + timedelta(days=2)]),
        "last_seen": st.none() | MOMENTS,
        "custom": st.dictionaries(st.sampled_from(["plan", "member_no"]), st.sampled_from(["", " ", "Pro", "M1"])),
        "related": st.fixed_dictionaries({table: st.integers(0, 2) for table in MOVED_TABLES}),
    }
)
SIMPLE_FILLS = [key for key, rule in RULES.items() if rule == "fill" and key not in TOGETHER]


def store(con: duckdb.DuckDBPyConnection, people: list[dict]) -> list[str]:
    """Insert generated contacts with their custom values and related records, a statement per table."""
    ids = [f"c{n:02d}" for n in range(len(people))]
    fields = [
        {"contact_id": i} | {k: v for k, v in p.items() if k not in ("custom", "related")}
        for i, p in zip(ids, people, strict=True)
    ]
    related = {
        table: [
            (i, p["created_on"] + timedelta(hours=n))
            for i, p in zip(ids, people, strict=True)
            for n in range(p["related"][table])
        ]
        for table in MOVED_TABLES
    }
    with scratch(con, pl.DataFrame(fields, infer_schema_length=None)) as new_contacts:
        con.execute(f"INSERT INTO contacts BY NAME SELECT * FROM {new_contacts}")
    for i, p in zip(ids, people, strict=True):
        write_values(con, i, p["custom"])
    for table, records in related.items():
        if records:
            schema = {"contact_id": pl.String, "moment": pl.Datetime("us")}
            with scratch(con, pl.DataFrame(records, schema=schema, orient="row")) as new_records:
                con.execute(RELATED_INSERTS[table].format(source=new_records))
    return ids


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CONTACTS, min_size=2, max_size=MAX_MERGE))
def test_any_contacts_merge_as_the_preview_said(shared_db, people):
    con = shared_db
    clear(con)
    ids = store(con, people)
    originals = [get_contact(con, contact_id) for contact_id in ids]
    counts_before = [counts_of(con, contact_id) for contact_id in ids]
    preview = preview_merge(con, ids[0], ids[1:])

    merged = merge_contacts(con, ids[0], ids[1:], "admin", expected_versions=preview.versions)

    primary, stored = originals[0], merged.model_dump()
    for field in preview.fields:
        if field.key.startswith("custom."):
            assert merged.custom.get(field.key.removeprefix("custom.")) == field.value, field.key
        elif field.key != "last_updated":
            assert stored[field.key] == field.value, field.key
    assert merged.tags == list(dict.fromkeys(tag for contact in originals for tag in contact.tags)) == preview.tags
    assert merged.created_on == min(contact.created_on for contact in originals) == preview.created_on
    for key in SIMPLE_FILLS:  # the primary's value if any, else the first secondary's that has one
        present = [getattr(contact, key) for contact in originals if not blank(getattr(contact, key))]
        assert stored[key] == (present[0] if present else None), key
    kept = ["lead_stage", "email_subscription", "blocked", "phone", "channel"]
    kept += [] if primary.name_generated else ["first_name", "last_name"]
    for key in kept:
        if not blank(getattr(primary, key)):
            assert stored[key] == getattr(primary, key), key
    expected = {table: sum(counts[table] for counts in counts_before) for table in MOVED_TABLES}
    expected["activity"] += 1
    assert counts_of(con, ids[0]) == expected
    assert scalar(con, "SELECT count(*) FROM contacts") == 1
    assert scalar(con, "SELECT count(*) FROM deletion_log") == len(ids) - 1


# --- Many groups at once ---


def group_frame(groups: dict[str, list[str]]) -> pl.DataFrame:
    members = [(primary, member) for primary, ids in groups.items() for member in ids]
    return pl.DataFrame(members, schema={"primary_id": pl.String, "contact_id": pl.String}, orient="row")


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """What merging leaves, without the times and IDs that differ between two runs."""
    return {
        "contacts": rows(con, "SELECT * EXCLUDE (last_updated) FROM contacts ORDER BY contact_id"),
        "custom_values": rows(con, "SELECT * FROM custom_values ORDER BY ALL"),
        "deletion_log": rows(con, "SELECT contact_id, actor FROM deletion_log ORDER BY ALL"),
        "activity": rows(con, "SELECT contact_id, action, changes FROM activity ORDER BY ALL"),
        "channel_refusals": rows(con, "SELECT * FROM channel_refusals ORDER BY ALL"),
        "channel_identities": rows(con, "SELECT * FROM channel_identities ORDER BY ALL"),
        **{
            table: rows(con, f"SELECT * EXCLUDE ({table.removesuffix('s')}_id) FROM {table} ORDER BY ALL")
            for table in ("conversations", "tickets", "notes")
        },
    }


@pytest.fixture(scope="module")
def twin_dbs():
    """Two databases for the same contacts: one merged group by group, one all at once."""
    pair = (prepare(open_database()), prepare(open_database()))
    yield pair
    for con in pair:
        con.close()


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CONTACTS, min_size=2, max_size=12), st.lists(st.integers(2, 4), min_size=1, max_size=4))
def test_merge_groups_matches_merge_contacts_group_by_group(twin_dbs, people, sizes):
    one_by_one, all_at_once = twin_dbs
    for con in twin_dbs:
        clear(con)
        ids = store(con, people)
        con.execute("INSERT INTO channel_refusals SELECT contact_id, 1, $at FROM contacts", {"at": T0})
        con.execute(
            "INSERT INTO channel_identities SELECT 'LINE', contact_id, contact_id, $at, $at FROM contacts", {"at": T0}
        )
    groups, start = {}, 0
    for size in sizes:
        if start + size <= len(ids):
            groups[ids[start]] = ids[start : start + size]
            start += size

    for primary, members in groups.items():
        secondaries = recent_first([get_contact(one_by_one, member) for member in members[1:]])
        merge_contacts(one_by_one, primary, [s.contact_id for s in secondaries], "admin")
    summary = merge_groups(all_at_once, group_frame(groups), "admin")

    merged = sum(len(members) - 1 for members in groups.values())
    assert (summary.groups, summary.contacts_merged, summary.skipped) == (len(groups), merged, 0)
    assert contents(all_at_once) == contents(one_by_one)


def test_merge_groups_leaves_groups_it_cannot_merge_untouched(db, add):
    for n in range(40):
        add(db, f"c{n:02d}", company=f"company {n}")
    groups = group_frame(
        {
            "c00": [f"c{n:02d}" for n in range(MAX_MERGE + 1)],  # 26 members
            "c26": ["c27", "c28"],  # the primary is not a member
            "c29": ["c29", "c30"],  # shares c30 with the next group
            "c31": ["c31", "c30"],
            "c32": ["c32"],  # alone
            "c33": ["c33", "c34", "c34", "gone"],  # a repeated and a missing member: merged
            "c35": ["c35", "c36"],
        }
    )
    untouched = {"ids": [f"c{n:02d}" for n in range(33)]}
    kept_sql = "SELECT * FROM contacts WHERE contact_id IN (SELECT unnest($ids)) ORDER BY 1"
    before = rows(db, kept_sql, untouched)
    summary = merge_groups(db, groups, "admin")
    assert (summary.groups, summary.contacts_merged, summary.skipped) == (2, 2, 5)
    assert rows(db, kept_sql, untouched) == before
    assert rows(db, "SELECT contact_id FROM deletion_log ORDER BY 1") == [("c34",), ("c36",)]


def test_merge_groups_refuses_agents_and_frames_without_the_columns(db, add):
    add(db, "p")
    add(db, "s")
    with pytest.raises(ContactsError, match="Only admins"):
        merge_groups(db, group_frame({"p": ["p", "s"]}), "agnes")
    with pytest.raises(ContactsError, match="primary_id and contact_id"):
        merge_groups(db, pl.DataFrame({"id": ["p"]}), "admin")
    assert scalar(db, "SELECT count(*) FROM contacts") == 2


def test_merge_groups_of_nothing_does_nothing(db):
    summary = merge_groups(db, group_frame({}), "admin")
    assert (summary.groups, summary.contacts_merged, summary.skipped) == (0, 0, 0)
