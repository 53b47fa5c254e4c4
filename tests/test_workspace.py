"""Workspace settings: custom fields, table columns per user, owners, lead stages and tags."""

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.fields import DEFAULT_TABLE_COLUMNS, SYSTEM_FIELDS
from core.contacts.models import CustomField
from core.contacts.validation import custom_fields
from core.db import open_database, rows, scalar
from core.errors import ContactsError
from core.workspace import (
    add_owner,
    column_choices,
    define_custom_field,
    lead_stages,
    owners,
    set_default_country,
    set_table_columns,
    table_columns,
    tag_names,
    user_role,
)


@pytest.fixture(scope="module")
def shared_db():
    """One database for the tests that only check what is refused."""
    con = open_database()
    bootstrap_admin(con)
    yield con
    con.close()


# --- custom fields -----------------------------------------------------------------------------


def test_define_custom_fields_in_order(fresh_db):
    member = define_custom_field(fresh_db, "member_no", "Member number", "text", is_identity=True, actor="admin")
    plan = define_custom_field(fresh_db, "plan", "Plan", "dropdown", [" Free ", "Pro", "  "], actor="admin")
    assert member == CustomField(key="member_no", label="Member number", type="text", is_identity=True, position=1)
    assert plan == CustomField(key="plan", label="Plan", type="dropdown", options=["Free", "Pro"], position=2)
    assert custom_fields(fresh_db) == [member, plan]


@pytest.mark.parametrize("type_", ["text", "number", "checkbox", "datetime", "dropdown"])
def test_every_custom_field_type_can_be_defined(fresh_db, type_):
    field = define_custom_field(fresh_db, "f1", "F1", type_, ["One"], actor="admin")
    assert custom_fields(fresh_db) == [field]


@pytest.mark.parametrize(
    ("key", "type_", "options", "field"),
    [
        ("Plan", "text", None, "key"),
        ("1plan", "text", None, "key"),
        ("_plan", "text", None, "key"),
        ("plan-x", "text", None, "key"),
        ("plan x", "text", None, "key"),
        ("plän", "text", None, "key"),
        ("", "text", None, "key"),
        ("p" * 64, "text", None, "key"),
        ("plan'; DROP TABLE contacts; --", "text", None, "key"),
        ("email", "text", None, "key"),
        ("first_name", "text", None, "key"),
        ("tags", "text", None, "key"),
        ("plan", "string", None, "type"),
        ("plan", "date", None, "type"),
        ("plan", "", None, "type"),
        ("plan", "dropdown", None, "options"),
        ("plan", "dropdown", [], "options"),
        ("plan", "dropdown", ["  ", ""], "options"),
    ],
)
def test_define_custom_field_validation(shared_db, key, type_, options, field):
    with pytest.raises(ContactsError) as raised:
        define_custom_field(shared_db, key, "Label", type_, options, actor="admin")
    assert raised.value.field == field
    assert scalar(shared_db, "SELECT count(*) FROM custom_fields") == 0


def test_the_longest_key_is_63_characters(fresh_db):
    assert define_custom_field(fresh_db, "p" * 63, "Long", "text", actor="admin").key == "p" * 63


def test_a_custom_field_key_is_defined_once(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    with pytest.raises(ContactsError) as raised:
        define_custom_field(fresh_db, "plan", "Plan again", "number", actor="admin")
    assert raised.value.field == "key"
    assert rows(fresh_db, "SELECT key, label, type FROM custom_fields") == [("plan", "Plan", "text")]


# --- table columns -----------------------------------------------------------------------------


def test_table_columns_default(fresh_db):
    assert table_columns(fresh_db, "admin") == list(DEFAULT_TABLE_COLUMNS)


def test_column_choices_are_every_system_and_custom_field(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    choices = column_choices(fresh_db)
    assert list(choices) == [field.key for field in SYSTEM_FIELDS] + ["custom.plan"]
    assert choices["email"] == "Email"
    assert choices["custom.plan"] == "Plan"


def test_table_columns_round_trip_per_user_in_order(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    set_table_columns(fresh_db, "admin", ["custom.plan", "email", "first_name"])
    add_owner(fresh_db, "bob", "Bob", actor="admin")
    set_table_columns(fresh_db, "bob", ["last_updated", "company"])
    assert table_columns(fresh_db, "admin") == ["custom.plan", "email", "first_name"]
    assert table_columns(fresh_db, "bob") == ["last_updated", "company"]
    assert table_columns(fresh_db, "carol") == list(DEFAULT_TABLE_COLUMNS)

    set_table_columns(fresh_db, "admin", ["phone", "email", "phone"])
    assert table_columns(fresh_db, "admin") == ["phone", "email"]
    assert table_columns(fresh_db, "bob") == ["last_updated", "company"]


@pytest.mark.parametrize("columns", [["email", "nope"], ["custom.plan"], ["email", "custom.nope"], []])
def test_set_table_columns_refuses_unknown_fields_and_keeps_the_old_choice(fresh_db, columns):
    set_table_columns(fresh_db, "admin", ["email"])
    with pytest.raises(ContactsError) as raised:
        set_table_columns(fresh_db, "admin", columns)
    assert raised.value.field == "columns"
    assert table_columns(fresh_db, "admin") == ["email"]


def test_a_removed_custom_field_drops_out_of_the_chosen_columns(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    set_table_columns(fresh_db, "admin", ["email", "custom.plan", "phone"])
    fresh_db.execute("DELETE FROM custom_fields WHERE key = 'plan'")
    assert table_columns(fresh_db, "admin") == ["email", "phone"]


# --- owners, stages, tags ----------------------------------------------------------------------


def test_owners_are_listed_by_name(fresh_db):
    add_owner(fresh_db, "zed", "Alice Zed", "admin", "alice@example.com", actor="admin")
    add_owner(fresh_db, "bob", "Bob", actor="admin")
    assert owners(fresh_db) == {"admin": "Admin", "zed": "Alice Zed", "bob": "Bob"}
    assert list(owners(fresh_db)) == ["admin", "zed", "bob"]
    assert (user_role(fresh_db, "zed"), user_role(fresh_db, "bob"), user_role(fresh_db, "nobody")) == (
        "admin",
        "agent",
        None,
    )


def test_add_owner_refuses_a_duplicate(fresh_db):
    add_owner(fresh_db, "bob", "Bob", actor="admin")
    with pytest.raises(ContactsError) as raised:
        add_owner(fresh_db, "bob", "Another Bob", "admin", actor="admin")
    assert raised.value.field == "owner_id"
    assert owners(fresh_db) == {"admin": "Admin", "bob": "Bob"}
    assert user_role(fresh_db, "bob") == "agent"


def test_add_owner_refuses_an_unknown_role(fresh_db):
    with pytest.raises(ContactsError) as raised:
        add_owner(fresh_db, "bob", "Bob", "superuser", actor="admin")
    assert raised.value.field == "role"
    assert owners(fresh_db) == {"admin": "Admin"}


def test_ensure_owner_adds_the_local_user_once(fresh_db):
    bootstrap_admin(fresh_db)
    bootstrap_admin(fresh_db)
    assert owners(fresh_db) == {"admin": "Admin"}
    assert user_role(fresh_db, "admin") == "admin"


def test_lead_stages_in_pipeline_order(fresh_db):
    assert lead_stages(fresh_db) == ["Lead", "Contact", "Qualified", "Customer", "Churned"]
    fresh_db.execute("INSERT INTO lead_stages VALUES ('Subscriber', 0), ('Evangelist', 6)")
    assert lead_stages(fresh_db) == ["Subscriber", "Lead", "Contact", "Qualified", "Customer", "Churned", "Evangelist"]


def test_tag_names_are_distinct_and_sorted(fresh_db):
    fresh_db.executemany(
        "INSERT INTO contacts (contact_id, tags) VALUES (?, ?)",
        [["a", ["vip", "eu"]], ["b", ["eu", "beta"]], ["c", []]],
    )
    assert tag_names(fresh_db) == ["beta", "eu", "vip"]


@pytest.mark.parametrize(("typed", "stored"), [("GB", "GB"), (" de ", "DE")])
def test_set_default_country(fresh_db, typed, stored):
    set_default_country(fresh_db, typed, actor="admin")
    assert scalar(fresh_db, "SELECT value FROM settings WHERE key = 'default_country'") == stored


@pytest.mark.parametrize("typed", ["XX", "", "United Kingdom"])
def test_set_default_country_refuses_an_unknown_code(fresh_db, typed):
    with pytest.raises(ContactsError) as raised:
        set_default_country(fresh_db, typed, actor="admin")
    assert raised.value.field == "country"
    assert scalar(fresh_db, "SELECT value FROM settings WHERE key = 'default_country'") == "US"
