"""A contact's additional emails and phones (contact_channels): kept by merge, shown in its preview."""

import json

import polars as pl

from core.duplicates.merge import merge_contacts, merge_groups
from core.duplicates.merge_plan import preview_merge


def channels(con, contact_id: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT kind, value FROM contact_channels WHERE contact_id = ? ORDER BY kind, position", [contact_id]
    ).fetchall()


def test_merge_keeps_every_secondarys_email_and_phone_and_the_preview_says_so(fresh_db, add_contact):
    add_contact(fresh_db, "p1", first_name="Ada", email="ada@example.com")
    add_contact(fresh_db, "s1", first_name="Ada", email="ada@work.example.com", phone="+14155550101")
    add_contact(fresh_db, "s2", first_name="Ada", email="a.king@example.com")
    fresh_db.execute("INSERT INTO contact_channels VALUES ('s2', 'phone', '+14155550199', 'home', 1)")
    preview = preview_merge(fresh_db, "p1", ["s1", "s2"])
    assert preview.additional_emails == ["ada@work.example.com", "a.king@example.com"]
    assert preview.additional_phones == ["+14155550199"]  # s1's phone fills the primary's blank phone
    merge_contacts(fresh_db, "p1", ["s1", "s2"], "admin")
    assert channels(fresh_db, "p1") == [
        ("email", "ada@work.example.com"),
        ("email", "a.king@example.com"),
        ("phone", "+14155550199"),
    ]
    assert fresh_db.execute("SELECT phone FROM contacts WHERE contact_id = 'p1'").fetchone() == ("+14155550101",)
    assert fresh_db.execute("SELECT count(*) FROM contact_channels WHERE contact_id <> 'p1'").fetchone() == (0,)


def test_bulk_merge_keeps_the_emails_too(fresh_db, add_contact):
    add_contact(fresh_db, "p1", email="one@example.com")
    add_contact(fresh_db, "s1", email="two@example.com")
    merge_groups(fresh_db, pl.DataFrame({"primary_id": ["p1", "p1"], "contact_id": ["p1", "s1"]}), "admin")
    assert channels(fresh_db, "p1") == [("email", "two@example.com")]


def test_search_and_filters_see_additional_emails_and_phones(fresh_db, add_contact):
    from core.db import frame
    from core.views.filters import Condition, Filter, compile_filter, filter_fields
    from core.views.search import search_condition

    add_contact(fresh_db, "a1", email="ada@example.com")
    add_contact(fresh_db, "b1", email="bob@example.com")
    fresh_db.execute(
        "INSERT INTO contact_channels VALUES ('a1', 'email', 'ada@work.example.org', 'work', 1), "
        "('a1', 'phone', '+14155550199', NULL, 1)"
    )

    def found(where: str, params: dict) -> list[str]:
        return frame(fresh_db, f"SELECT contact_id FROM contacts c WHERE {where} ORDER BY 1", params)[
            "contact_id"
        ].to_list()

    assert found(*search_condition("work.example")) == ["a1"]
    assert found(*search_condition("415 555 0199")) == ["a1"]
    fields = filter_fields(fresh_db)
    contains = Filter(conditions=[Condition(field="email", op="contains", value="example.org")])
    assert found(*compile_filter(contains, fields)) == ["a1"]
    excluded = Filter(conditions=[Condition(field="email", op="not_contains", value="example.org")])
    assert found(*compile_filter(excluded, fields)) == ["b1"]


def test_additional_values_are_edited_as_one_logged_change(fresh_db, add_contact):
    import pytest

    from core.contacts.channels import Channel, contact_channels, set_contact_channels
    from core.contacts.records import get_contact
    from core.errors import ContactsError, StaleContactError

    made = add_contact(fresh_db, "c1", email="ada@example.com")
    items = [Channel(value=" Ada@Work.example.com ", label="work"), Channel(value="ada@example.com"), Channel(value="")]
    kept = set_contact_channels(fresh_db, "c1", "email", items, made.version, "admin")
    assert kept == [Channel(value="ada@work.example.com", label="work")]  # the primary and blanks left out
    assert contact_channels(fresh_db, "c1", "email") == kept
    after = get_contact(fresh_db, "c1")
    assert after.version == made.version + 1
    logged = fresh_db.execute(
        "SELECT changes FROM activity WHERE contact_id = 'c1' ORDER BY happened_at DESC"
    ).fetchone()
    assert "ada@work.example.com (work)" in logged[0]
    with pytest.raises(StaleContactError):
        set_contact_channels(fresh_db, "c1", "email", [], made.version, "admin")
    with pytest.raises(ContactsError):
        set_contact_channels(fresh_db, "c1", "phone", [Channel(value="12")], after.version, "admin")


def test_an_import_that_only_adds_an_email_is_a_logged_change(fresh_db, add_contact):
    from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table

    made = add_contact(fresh_db, "c1", email="ada@example.com")
    table = read_table("a.csv", b"Email,Email 2\nada@example.com,ada2@example.com\n")
    plan = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
    result = commit_import(fresh_db, plan, "admin")
    assert (result.updated, result.changed) == (1, 1)
    assert channels(fresh_db, "c1") == [("email", "ada2@example.com")]
    (version,) = fresh_db.execute("SELECT version FROM contacts WHERE contact_id = 'c1'").fetchone()
    assert version == made.version + 1
    logged = fresh_db.execute("SELECT changes FROM activity WHERE action = 'updated'").fetchall()
    # the JSON's spacing is each store's own
    assert [json.loads(changes) for (changes,) in logged] == [
        {"import": "a.csv", "additional emails and phones": "email ada2@example.com"}
    ]
    again = commit_import(fresh_db, plan_import(fresh_db, table, plan.options), "admin")
    assert again.changed == 0  # nothing new: no version, no entry
