"""The write stamps (core/stamps.py) that key the app's caches: each write that changes field lists, owners,
stages, segments, settings or table columns moves the workspace stamp; every write moves the contacts stamp;
a refused write moves neither."""

from collections.abc import Callable

import pytest

from core.accounts.users import create_first_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.errors import PermissionDenied
from core.stamps import contacts_stamp, workspace_stamp
from core.views.filters import parse_filter
from core.views.segments import delete_segment, rename_segment, save_segment
from core.workspace import (
    add_lead_stage,
    add_owner,
    define_custom_field,
    rename_custom_field,
    rename_lead_stage,
    set_default_country,
    set_table_columns,
)


def moved(con, write: Callable[[], object]) -> tuple[bool, bool]:
    """Whether the workspace and contacts stamps of `con`'s database moved across one write."""
    workspace, contacts = workspace_stamp(con), contacts_stamp(con)
    write()
    return workspace_stamp(con) != workspace, contacts_stamp(con) != contacts


PRO = parse_filter({"conditions": [{"field": "custom.plan", "op": "is", "value": "pro"}]})
WORKSPACE_WRITES = {
    "define a custom field": lambda con: define_custom_field(con, "plan", "Plan", "text", actor="admin"),
    "rename a custom field": lambda con: rename_custom_field(con, "plan", "Pricing plan", "admin"),
    "add an owner": lambda con: add_owner(con, "maria", "Maria", role="agent", actor="admin"),
    "add a lead stage": lambda con: add_lead_stage(con, "Trial", "admin"),
    "rename a lead stage": lambda con: rename_lead_stage(con, "Trial", "Pilot", "admin"),
    "change a setting": lambda con: set_default_country(con, "GB", "admin"),
    "choose table columns": lambda con: set_table_columns(con, "admin", ["first_name", "email"]),
    "save a segment": lambda con: save_segment(con, "Pro", PRO, "admin"),
    "rename a segment": lambda con: rename_segment(con, "Pro", "Pro plan", "admin"),
    "delete a segment": lambda con: delete_segment(con, "Pro plan", "admin"),
}


def test_each_workspace_write_moves_both_stamps(fresh_db):
    for name, write in WORKSPACE_WRITES.items():  # in order: each builds on the one before
        assert moved(fresh_db, lambda write=write: write(fresh_db)) == (True, True), name


def test_a_contact_write_moves_only_the_contacts_stamp(fresh_db):
    assert moved(
        fresh_db, lambda: create_contact(fresh_db, ContactInput(contact_id="ada", first_name="Ada"), "admin")
    ) == (
        False,
        True,
    )
    assert moved(fresh_db, lambda: update_contact(fresh_db, "ada", {"last_name": "Lovelace"}, 1, "admin")) == (
        False,
        True,
    )


def test_a_refused_write_moves_no_stamp(fresh_db):
    add_owner(fresh_db, "maria", "Maria", role="agent", actor="admin")

    def refused() -> None:
        with pytest.raises(PermissionDenied):
            define_custom_field(fresh_db, "plan", "Plan", "text", actor="maria")

    assert moved(fresh_db, refused) == (False, False)


def test_setting_up_the_first_admin_moves_the_stamps(fresh_db):
    """Not a checked writer (nobody can act yet), but the owner lists change: another process must see it."""
    assert moved(fresh_db, lambda: create_first_admin(fresh_db, "admin", "Admin", "first-admin-password")) == (
        True,
        True,
    )
