"""The per-rerun reads cached in ui/cache.py follow the writes that change them: a page opened after the write
shows the new field, owner and segment (each write moves the workspace stamp, core/stamps.py)."""

from core.contacts.records import set_blocked
from core.views.filters import parse_filter
from core.views.segments import save_segment
from core.workspace import add_owner, define_custom_field
from ui.session import db


def test_the_contacts_page_sees_a_new_field_owner_and_segment(open_page):
    before = open_page("pages/contacts.py")
    assert not before.exception
    assert "Tier" not in before.multiselect(key="table-columns").options
    define_custom_field(db(), "tier", "Tier", "text", actor="admin")
    add_owner(db(), "omar", "Omar Khayyam", role="agent", actor="admin")
    save_segment(
        db(), "Tiered", parse_filter({"conditions": [{"field": "custom.tier", "op": "is_not_empty"}]}), "admin"
    )

    after = open_page("pages/contacts.py")
    assert not after.exception
    assert "Tier" in after.multiselect(key="table-columns").options
    assert "Omar Khayyam" in after.selectbox(key="bulk-assign-owner").options
    assert "Tiered" in after.selectbox[0].options


def test_the_list_follows_a_write_to_a_contact(open_page, app_db):
    """The page of contacts is cached until the next write (ui/cache.list_page): a block by another user shows."""
    emails = open_page("pages/contacts.py").dataframe[0].value["email"].tolist()
    assert "alan@bletchley.example" in emails
    assert open_page("pages/contacts.py").dataframe[0].value["email"].tolist() == emails  # unchanged: the cached page
    set_blocked(db(), [app_db["Alan"].contact_id], True, "admin")
    after = open_page("pages/contacts.py").dataframe[0].value["email"].tolist()
    assert sorted(after) == sorted(email for email in emails if email != "alan@bletchley.example")
