"""Merging contacts: the rules, the refusals, all-or-nothing, and properties over any set of 2 to 25."""

from datetime import datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.merge as merge_module
from core.db import open_database
from core.errors import ContactsError, StaleContactError
from core.merge import merge_contacts, preview_merge
from core.workspace import add_owner, define_custom_field, ensure_owner

ACTOR = "admin"
TABLES = ("contacts", "custom_values", "conversations", "tickets", "notes", "media", "activity",
          "channel_identities", "channel_refusals", "deletion_log")  # fmt: skip


def add(con, contact_id: str, created: datetime, tags=(), custom=None, **fields) -> None:
    values = {"contact_id": contact_id, "created_on": created, "last_updated": created, "tags": list(tags), **fields}
    con.execute(
        f"INSERT INTO contacts ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})", list(values.values())
    )
    for key, value in (custom or {}).items():
        con.execute("INSERT INTO custom_values VALUES (?, ?, ?)", [contact_id, key, value])


def records(con, contact_id: str, at: datetime, count: int = 1) -> None:
    for i in range(count):
        when = at + timedelta(minutes=i)
        con.execute(
            "INSERT INTO conversations (contact_id, channel, kind, started_at, last_message_at) "
            "VALUES (?, 'web', 'webchat', ?, ?)",
            [contact_id, when, when],
        )
        con.execute(
            "INSERT INTO notes (contact_id, author, body, created_at) VALUES (?, 'a', 'n', ?)", [contact_id, when]
        )


def snapshot(con) -> dict[str, list]:
    return {table: sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall())) for table in TABLES}


@pytest.fixture
def con(fresh_db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    ensure_owner(fresh_db, ACTOR)
    define_custom_field(fresh_db, "plan", "Plan", "text")
    base = datetime(2024, 5, 1)
    add(fresh_db, "p", base, tags=["vip"], first_name="Ana", email="ana@x.example", email_subscription="unsubscribed")
    add(fresh_db, "s1", base - timedelta(days=30), tags=["news", "vip"], first_name="Anna", last_name="Silva",
        city="Porto", email_subscription="subscribed", custom={"plan": "Pro"})  # fmt: skip
    add(
        fresh_db,
        "s2",
        base - timedelta(days=3),
        tags=["lead"],
        last_name="Souza",
        company="Acme",
        phone="+351912345678",
    )
    records(fresh_db, "p", base, 1)
    records(fresh_db, "s1", base - timedelta(days=20), 2)
    fresh_db.execute(
        "INSERT INTO channel_identities VALUES ('web', 'cookie-1', 's1', ?, ?), ('web', 'cookie-2', 'p', ?, ?)",
        [base, base, base, base],
    )
    fresh_db.execute("INSERT INTO channel_refusals VALUES ('s2', 3, ?), ('p', 1, ?)", [base, base])
    return fresh_db


def test_the_primary_wins_and_the_secondaries_fill_its_blanks(con):
    preview = preview_merge(con, "p", ["s1", "s2"])
    fields = {field.key: field for field in preview.fields}
    assert (fields["first_name"].value, fields["first_name"].source_id) == ("Ana", "p")
    assert fields["first_name"].differs
    assert (fields["last_name"].value, fields["last_name"].source_id) == ("Silva", "s1")  # first listed fills
    assert (fields["company"].value, fields["company"].source_id) == ("Acme", "s2")
    assert (fields["custom.plan"].value, fields["custom.plan"].source_id) == ("Pro", "s1")
    assert preview.tags == ["vip", "news", "lead"]
    assert preview.moves["conversations"] == 2 and preview.moves["notes"] == 2
    assert preview.created_on == datetime(2024, 4, 1)

    merged = merge_contacts(con, "p", ["s1", "s2"], ACTOR, expected_versions=preview.versions)
    assert (merged.first_name, merged.last_name, merged.company, merged.city) == ("Ana", "Silva", "Acme", "Porto")
    assert merged.email_subscription == "unsubscribed"  # the primary's subscription
    assert sorted(merged.tags) == ["lead", "news", "vip"]
    assert merged.created_on == datetime(2024, 4, 1) and merged.last_updated > datetime(2024, 5, 1)
    assert con.execute("SELECT count(*) FROM contacts").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM conversations WHERE contact_id = 'p'").fetchall() == [(3,)]
    assert con.execute("SELECT count(*) FROM notes WHERE contact_id = 'p'").fetchall() == [(3,)]
    assert con.execute("SELECT value FROM custom_values WHERE contact_id = 'p'").fetchall() == [("Pro",)]
    assert con.execute("SELECT count(*) FROM channel_identities WHERE contact_id = 'p'").fetchall() == [(2,)]
    assert con.execute("SELECT contact_id, refused_count FROM channel_refusals").fetchall() == [("p", 4)]
    assert sorted(con.execute("SELECT contact_id FROM deletion_log").fetchall()) == [("s1",), ("s2",)]
    entry = con.execute("SELECT changes FROM activity WHERE contact_id = 'p' AND action = 'merged'").fetchall()
    assert len(entry) == 1 and "s1" in entry[0][0] and "Silva" in entry[0][0]


@pytest.mark.parametrize(
    ("primary", "secondaries", "message"),
    [
        ("p", [], "2"),
        ("p", ["p"], "primary"),
        ("p", [f"x{i}" for i in range(25)], "25"),
        ("p", ["s1", "gone"], "gone"),
        ("p", ["s1", "p"], ""),
    ],
)
def test_refusals_change_nothing(con, primary, secondaries, message):
    before = snapshot(con)
    with pytest.raises(ContactsError) as refused:
        merge_contacts(con, primary, secondaries, ACTOR)
    assert message in refused.value.message
    assert snapshot(con) == before


def test_an_agent_cannot_merge_and_a_stale_preview_is_refused(con):
    add_owner(con, "maria", "Maria")
    before = snapshot(con)
    with pytest.raises(ContactsError):
        merge_contacts(con, "p", ["s1"], "maria")
    preview = preview_merge(con, "p", ["s1"])
    con.execute("UPDATE contacts SET version = version + 1, city = 'Braga' WHERE contact_id = 's1'")
    changed = snapshot(con)
    with pytest.raises(StaleContactError):
        merge_contacts(con, "p", ["s1"], ACTOR, expected_versions=preview.versions)
    assert snapshot(con) == changed != before


def test_a_failure_in_the_middle_leaves_every_contact_as_it_was(con, monkeypatch):
    before = snapshot(con)

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge_module, "_replace_contacts", fail)  # after related records moved
    with pytest.raises(RuntimeError):
        merge_contacts(con, "p", ["s1", "s2"], ACTOR)
    assert snapshot(con) == before


tags = st.lists(st.sampled_from(["a", "b", "c", "d", "vip"]), max_size=3, unique=True)
person = st.fixed_dictionaries(
    {
        "first_name": st.one_of(st.none(), st.sampled_from(["Ana", "Bo", " "])),
        "city": st.one_of(st.none(), st.sampled_from(["Porto", "Lima"])),
        "tags": tags,
        "days": st.integers(0, 900),
        "notes": st.integers(0, 2),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group=st.lists(person, min_size=2, max_size=25))
def test_any_set_of_2_to_25_merges_into_the_union(group):
    con = open_database()
    ensure_owner(con, ACTOR)
    ids = [f"c{i:02d}" for i in range(len(group))]
    for contact_id, data in zip(ids, group, strict=True):
        created = datetime(2020, 1, 1) + timedelta(days=data["days"])
        add(con, contact_id, created, tags=data["tags"], first_name=data["first_name"], city=data["city"])
        records(con, contact_id, created, data["notes"])
    preview = preview_merge(con, ids[0], ids[1:])
    merged = merge_contacts(con, ids[0], ids[1:], ACTOR)
    assert set(merged.tags) == {tag for data in group for tag in data["tags"]}
    assert merged.created_on == min(datetime(2020, 1, 1) + timedelta(days=d["days"]) for d in group)
    total_notes = sum(data["notes"] for data in group)
    assert con.execute("SELECT count(*) FROM notes WHERE contact_id = ?", [ids[0]]).fetchall() == [(total_notes,)]
    assert con.execute("SELECT count(*) FROM contacts").fetchall() == [(1,)]
    stored = merged.model_dump()
    for field in preview.fields:
        if not field.key.startswith("custom.") and field.key in stored and field.key not in ("last_updated",):
            assert stored[field.key] == field.value or (stored[field.key] in (None, "") and field.value in (None, ""))
    con.close()
