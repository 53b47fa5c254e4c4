"""Segments: system and saved, dynamic, renamed and deleted; blocked contacts leave them; counts and composition."""

import pytest

from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.errors import ContactsError
from core.views.filters import parse_filter
from core.views.queries import ListView, list_contacts
from core.views.segments import (
    all_segments,
    delete_segment,
    find_segment,
    rename_segment,
    save_segment,
    segment_composition,
    segment_condition,
    segment_count,
    segment_summaries,
    update_segment_filter,
)
from core.workspace import add_owner, define_custom_field

ACME = parse_filter({"conditions": [{"field": "email", "op": "contains", "value": "acme"}]})


@pytest.fixture
def workspace(fresh_db):
    add_owner(fresh_db, "alice", "Alice Adams", actor="admin")
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    for first, email, stage, owner, plan in [
        ("Ada", "ada@acme.io", "Lead", "alice", "Pro"),
        ("Bob", "bob@acme.io", "Customer", None, "Free"),
        ("Cy", "cy@example.com", "Lead", "alice", None),
    ]:
        create_contact(
            fresh_db,
            ContactInput(
                first_name=first, email=email, lead_stage=stage, owner_id=owner, custom={"plan": plan} if plan else {}
            ),
            "admin",
        )
    return fresh_db


def names(con, segment: str, **view) -> list[str]:
    page = list_contacts(con, ListView(segment=segment, columns=["first_name"], **view), "alice")
    return sorted(page.rows["first_name"].to_list())


def test_a_saved_filter_is_a_segment_found_by_key_name_or_id(workspace):
    saved = save_segment(workspace, "  Acme   people ", ACME, "admin")
    assert (saved.name, saved.key, saved.system) == ("Acme people", f"saved-{saved.segment_id}", False)
    assert saved.description == "Email contains 'acme'"
    for reference in (saved.key, "acme PEOPLE", str(saved.segment_id), saved.segment_id):
        assert find_segment(workspace, reference) == saved
    assert names(workspace, saved.key) == ["Ada", "Bob"]
    assert segment_count(workspace, "Acme people", "alice") == 2


def test_segments_are_dynamic(workspace):
    saved = save_segment(workspace, "Acme", ACME, "admin")
    cy = list_contacts(workspace, ListView(search="cy@"), "alice").rows.row(0, named=True)
    update_contact(workspace, cy["contact_id"], {"email": "cy@acme.io"}, cy["version"], "admin")
    assert names(workspace, saved.key) == ["Ada", "Bob", "Cy"]
    create_contact(workspace, ContactInput(first_name="Dee", email="dee@acme.io"), "admin")
    assert segment_count(workspace, saved.key, "alice") == 4


def test_blocked_contacts_leave_saved_segments_too(workspace):
    from core.contacts.records import set_blocked

    saved = save_segment(workspace, "Acme", ACME, "admin")
    ada = list_contacts(workspace, ListView(search="ada"), "alice").rows["contact_id"][0]
    set_blocked(workspace, [ada], True, "admin")
    assert names(workspace, saved.key) == ["Bob"]
    assert names(workspace, "blocked") == ["Ada"]


def test_search_filter_and_columns_work_inside_a_saved_segment(workspace):
    saved = save_segment(workspace, "Acme", ACME, "admin")
    assert names(workspace, saved.key, search="bob") == ["Bob"]
    leads = parse_filter({"conditions": [{"field": "lead_stage", "op": "any_of", "value": ["Lead"]}]})
    assert names(workspace, saved.key, filter=leads) == ["Ada"]
    page = list_contacts(workspace, ListView(segment=saved.key, columns=["email", "custom.plan"]), "alice")
    assert sorted(page.rows["custom.plan"].to_list()) == ["Free", "Pro"]


def test_segment_and_view_filters_share_a_statement_without_clashing_parameters(workspace):
    saved = save_segment(workspace, "Acme", ACME, "admin")
    where, params = segment_condition(workspace, saved.key, "alice")
    assert "acme" not in where and params == {"s0": "acme"}


def test_rename_update_and_delete(workspace):
    saved = save_segment(workspace, "Acme", ACME, "admin")
    renamed = rename_segment(workspace, "Acme", "Acme accounts", actor="admin")
    assert renamed.segment_id == saved.segment_id and renamed.name == "Acme accounts"
    customers = parse_filter({"conditions": [{"field": "lead_stage", "op": "any_of", "value": ["Customer"]}]})
    customers_only = update_segment_filter(workspace, renamed.key, customers, actor="admin")
    assert customers_only.description == "Lead stage is any of Customer"
    assert names(workspace, renamed.key) == ["Bob"]
    delete_segment(workspace, renamed.key, actor="admin")
    with pytest.raises(ContactsError, match="There is no segment 'Acme accounts'"):
        find_segment(workspace, "Acme accounts")
    assert segment_count(workspace, "all", "alice") == 3  # the contacts stay


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "1 to 100 characters"),
        ("x" * 101, "1 to 100 characters"),
        ("all contacts", "reserved"),
        ("Blocked", "reserved"),
        ("saved-9", "reserved"),
        ("42", "reserved"),
        ("ACME", "already a segment"),
    ],
)
def test_names_must_be_new_and_not_reserved(workspace, name, message):
    save_segment(workspace, "Acme", ACME, "admin")
    with pytest.raises(ContactsError, match=message):
        save_segment(workspace, name, ACME, "admin")


def test_an_empty_or_ill_typed_filter_cannot_be_saved(workspace):
    with pytest.raises(ContactsError, match="at least one condition"):
        save_segment(workspace, "Nothing", parse_filter({"conditions": []}), "admin")
    bad = parse_filter({"conditions": [{"field": "custom.plan", "op": "any_of", "value": ["Gold"]}]})
    with pytest.raises(ContactsError, match="Plan has no value 'Gold'"):
        save_segment(workspace, "Gold", bad, "admin")
    assert [s.name for s in all_segments(workspace)] == ["All contacts", "My contacts", "Unassigned", "Blocked"]


def test_system_segments_cannot_be_renamed_or_deleted(workspace):
    with pytest.raises(ContactsError, match="system segment"):
        rename_segment(workspace, "all", "Everyone", actor="admin")
    with pytest.raises(ContactsError, match="system segment"):
        delete_segment(workspace, "Blocked", actor="admin")


def test_summaries_list_every_segment_with_count_and_description(workspace):
    save_segment(workspace, "Acme", ACME, "admin")
    summary = segment_summaries(workspace, "alice").select("name", "kind", "contacts", "description").rows()
    assert summary == [
        ("All contacts", "system", 3, "Every contact not blocked"),
        ("My contacts", "system", 2, "Contacts you own"),
        ("Unassigned", "system", 1, "Contacts without an owner"),
        ("Blocked", "system", 0, "Blocked contacts"),
        ("Acme", "saved", 2, "Email contains 'acme'"),
    ]


def test_composition_by_stage_and_owner(workspace):
    saved = save_segment(workspace, "Acme", ACME, "admin")
    assert segment_composition(workspace, saved.key, "alice", "lead_stage").rows() == [("Customer", 1), ("Lead", 1)]
    assert segment_composition(workspace, "all", "alice", "owner_id").rows() == [("Alice Adams", 2), ("(none)", 1)]
    assert segment_composition(workspace, "all", "alice", "channel").rows() == [("(none)", 3)]
    with pytest.raises(ContactsError):
        segment_composition(workspace, "all", "alice", "email")  # type: ignore[arg-type]
