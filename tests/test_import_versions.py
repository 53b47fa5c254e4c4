"""Every change an import makes leaves a version and a trace: custom-only changes too (issue 14, point 2)."""

import json

import pytest

from core.contacts.records import get_contact, update_contact
from core.errors import StaleContactError
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.workspace import define_custom_field


def _import(con, text: str, **options):
    table = read_table("plans.csv", text.encode())
    mapping = auto_map(con, table.headers) | options.pop("mapping", {})
    plan = plan_import(con, table, ImportOptions(mapping=mapping, mode="upsert", **options))
    return commit_import(con, plan, "admin")


def test_a_custom_only_change_bumps_the_version_and_logs_before_and_after(fresh_db, add_contact):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    add_contact(fresh_db, "ada", email="ada@example.com", custom={"plan": "Free"})
    result = _import(fresh_db, "email,Plan\nada@example.com,Enterprise\n", mapping={"Plan": "custom.plan"})
    contact = get_contact(fresh_db, "ada")
    assert (contact.custom["plan"], contact.version, result.changed) == ("Enterprise", 2, 1)
    changes = fresh_db.execute(
        "SELECT changes FROM activity WHERE contact_id = 'ada' AND action = 'updated'"
    ).fetchall()[0][0]
    assert json.loads(changes)["custom.plan"] == {"before": "Free", "after": "Enterprise"}


def test_an_unchanged_row_writes_nothing(fresh_db, add_contact):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    add_contact(fresh_db, "ada", email="ada@example.com", custom={"plan": "Free"})
    result = _import(fresh_db, "email,Plan\nada@example.com,Free\n", mapping={"Plan": "custom.plan"})
    assert (get_contact(fresh_db, "ada").version, result.changed) == (1, 0)
    assert fresh_db.execute("SELECT count(*) FROM activity WHERE action = 'updated'").fetchall()[0][0] == 0


def test_a_system_change_logs_before_and_after(fresh_db, add_contact):
    add_contact(fresh_db, "ada", email="ada@example.com", company="Old")
    _import(fresh_db, "email,Company\nada@example.com,New\n")
    changes = json.loads(fresh_db.execute("SELECT changes FROM activity WHERE action = 'updated'").fetchall()[0][0])
    assert changes["company"] == {"before": "Old", "after": "New"} and changes["import"] == "plans.csv"


def test_an_editor_holding_the_version_before_an_import_is_warned(fresh_db, add_contact):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    add_contact(fresh_db, "ada", email="ada@example.com", custom={"plan": "Free"})
    _import(fresh_db, "email,Plan\nada@example.com,Enterprise\n", mapping={"Plan": "custom.plan"})
    with pytest.raises(StaleContactError):
        update_contact(fresh_db, "ada", {"custom.plan": "Free"}, 1, "admin")
