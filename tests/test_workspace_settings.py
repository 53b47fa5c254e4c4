"""Managing the workspace (admins): custom fields, dropdown options, order, identity, lead stages; each logged."""

import pytest

from core.accounts.audit import workspace_log
from core.contacts.records import get_contact
from core.contacts.validation import custom_fields
from core.db import rows
from core.errors import ContactsError, PermissionDenied
from core.workspace import (
    add_lead_stage,
    add_owner,
    custom_field_usage,
    define_custom_field,
    delete_custom_field,
    delete_lead_stage,
    lead_stages,
    rename_custom_field,
    rename_lead_stage,
    reorder_custom_fields,
    reorder_lead_stages,
    set_dropdown_options,
    set_identity_fields,
    stage_usage,
)


@pytest.fixture
def plans(fresh_db, add_contact):
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", options=["Free", "Pro", "Team"], actor="admin")
    define_custom_field(fresh_db, "member", "Member no", "text", actor="admin")
    add_contact(fresh_db, "a", email="a@example.com", custom={"plan": "Free"})
    add_contact(fresh_db, "b", email="b@example.com", custom={"plan": "Team"})
    add_contact(fresh_db, "c", email="c@example.com", custom={"plan": "Team"}, lead_stage="Lead")
    return fresh_db


def actions(con) -> list[str]:
    return workspace_log(con)["action"].to_list()


def test_rename_a_field_label(plans):
    rename_custom_field(plans, "plan", "Pricing plan", actor="admin")
    assert {f.key: f.label for f in custom_fields(plans)}["plan"] == "Pricing plan"
    assert actions(plans)[0] != "" and len(actions(plans)) >= 3  # two fields defined, one renamed


def test_a_removed_option_in_use_must_be_mapped_with_its_count(plans):
    with pytest.raises(ContactsError, match=r"Team \(2 contacts\)"):
        set_dropdown_options(plans, "plan", ["Free", "Pro"], actor="admin")
    moved = set_dropdown_options(plans, "plan", ["Free", "Pro"], actor="admin", replacements={"Team": "Pro"})
    assert moved == {"Team": 2}
    contact = get_contact(plans, "b")
    assert (contact.custom["plan"], contact.version) == ("Pro", 2)
    with pytest.raises(ContactsError, match="kept option"):
        set_dropdown_options(plans, "plan", ["Free"], actor="admin", replacements={"Pro": "Gold"})


def test_a_removed_option_can_be_cleared(plans):
    set_dropdown_options(plans, "plan", ["Free", "Pro"], actor="admin", replacements={"Team": None})
    assert "plan" not in get_contact(plans, "c").custom


def test_reorder_fields_and_mark_identity(plans):
    reorder_custom_fields(plans, ["member", "plan"], actor="admin")
    assert [f.key for f in custom_fields(plans)] == ["member", "plan"]
    with pytest.raises(ContactsError, match="every custom field once"):
        reorder_custom_fields(plans, ["plan"], actor="admin")
    set_identity_fields(plans, ["member"], actor="admin")
    assert [f.key for f in custom_fields(plans) if f.is_identity] == ["member"]
    with pytest.raises(ContactsError, match="Only text and number"):
        set_identity_fields(plans, ["plan"], actor="admin")


def test_delete_a_field_after_typing_its_name(plans):
    assert custom_field_usage(plans, "plan") == 3
    with pytest.raises(ContactsError, match="Type the field's name, Plan"):
        delete_custom_field(plans, "plan", "plna", actor="admin")
    assert delete_custom_field(plans, "plan", "Plan", actor="admin") == 3
    columns = rows(plans, "SELECT column_name FROM information_schema.columns WHERE table_name = 'custom_values'")
    assert ("plan",) not in columns  # the values went with their column
    assert [f.key for f in custom_fields(plans)] == ["member"]


def test_lead_stages_add_rename_reorder_delete(plans):
    add_lead_stage(plans, "Won back", actor="admin")
    assert lead_stages(plans)[-1] == "Won back"
    assert rename_lead_stage(plans, "Lead", "Prospect", actor="admin") == 1
    assert get_contact(plans, "c").lead_stage == "Prospect"
    order = list(reversed(lead_stages(plans)))
    reorder_lead_stages(plans, order, actor="admin")
    assert lead_stages(plans) == order
    with pytest.raises(ContactsError, match="another stage"):
        delete_lead_stage(plans, "Prospect", "Prospect", actor="admin")
    assert delete_lead_stage(plans, "Prospect", "Won back", actor="admin") == 1
    assert "Prospect" not in lead_stages(plans) and stage_usage(plans)["Won back"] == 1
    assert {"lead stage added", "lead stage renamed", "lead stages reordered", "lead stage deleted"} <= set(
        actions(plans)
    )


def test_every_change_records_who_and_when(plans):
    log = workspace_log(plans)
    assert log.height >= 2 and set(log["actor"].to_list()) == {"admin"}
    assert log["happened_at"].null_count() == 0


def test_agents_cannot_change_fields_or_stages(plans):
    add_owner(plans, "maria", "Maria", actor="admin")
    for action in (
        lambda: define_custom_field(plans, "x", "X", "text", actor="maria"),
        lambda: rename_custom_field(plans, "plan", "P", actor="maria"),
        lambda: delete_custom_field(plans, "plan", "Plan", actor="maria"),
        lambda: add_lead_stage(plans, "New", actor="maria"),
        lambda: delete_lead_stage(plans, "Lead", "Contact", actor="maria"),
    ):
        with pytest.raises(PermissionDenied):
            action()


def test_rotating_the_ingest_token_refuses_the_old_one_at_once(fresh_db, tmp_path, monkeypatch):
    from core.config import ingest_token
    from core.workspace import rotate_ingest_token

    monkeypatch.setenv("CONTACTS_DB", str(tmp_path / "w.duckdb"))
    monkeypatch.delenv("CONTACTS_INGEST_TOKEN", raising=False)
    old = ingest_token()
    new = rotate_ingest_token(fresh_db, actor="admin")
    assert new != old and ingest_token() == new  # the endpoint compares with ingest_token() on every request
    assert (tmp_path / "w.duckdb.ingest-token").stat().st_mode & 0o777 == 0o600
    assert "ingest token rotated" in actions(fresh_db)
    add_owner(fresh_db, "maria", "Maria", actor="admin")
    with pytest.raises(PermissionDenied):
        rotate_ingest_token(fresh_db, actor="maria")
    assert ingest_token() == new
