"""The Duplicates page and the details page's duplicates notice under AppTest.

Merges are confirmed in a dialog, whose buttons do not fire under AppTest: tests/browser covers them.
"""

import os
from datetime import date, timedelta

import pytest

from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.contacts.validation import custom_fields
from core.db import open_database
from core.workspace import add_owner, define_custom_field
from tests.pages.conftest import open_as_agent
from ui.session import db, plain

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas"]
LAST = ["Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore"]
PAIRS = {
    # Exact: one mailbox in two cases; one Gmail mailbox with and without a dot.
    "hedy": ("Hedy", "Lamarr", "hedy@films.example", {"tags": ["vip"], "company": "MGM"}),
    "hedy2": ("Hedy", "Lamarr", "HEDY@Films.Example", {"tags": ["newsletter"], "job_title": "Inventor"}),
    "john": ("John", "Smith", "john.smith@gmail.com", {}),
    "john2": ("Johnny", "Smith", "johnsmith@gmail.com", {}),
    # Likely: same name, birthday and address, another email (about 0.99).
    "kath": (
        "Katherine",
        "Johnson",
        "kj@nasa.example",
        {"birthday": "1918-08-26", "address": "1 Langley Road", "city": "Hampton", "postal_code": "23666"},
    ),
    "kath2": (
        "Katherine",
        "Johnson",
        "katherine@home.example",
        {"birthday": "1918-08-26", "address": "1 Langley Road", "city": "Hampton", "postal_code": "23666"},
    ),
    # Likely but weaker: a typo in the last name, other email and phone (about 0.85).
    "dot": ("Dorothy", "Vaughan", "dv@nasa.example", {"birthday": "1910-09-20", "phone": "+1 757 555 0101"}),
    "dot2": ("Dorothy", "Vaughn", "dorothy@home.example", {"birthday": "1910-09-20", "phone": "+1 757 555 0199"}),
}


@pytest.fixture
def people(app_db):
    """app_db's three contacts (no duplicates) plus 40 distinct people and the pairs above; by short name."""
    con = open_database(os.environ["CONTACTS_DB"])
    add_owner(con, "agent", "Agent Smith", role="agent", actor="admin")
    for i in range(40):
        made = create_contact(
            con,
            ContactInput(first_name=FIRST[i % 10], last_name=LAST[(i * 3 + i // 10) % 10], email=f"f{i}@x.org"),
            "admin",
        )
        profile = {
            "birthday": str(date(1960, 1, 1) + timedelta(days=397 * i)),
            "address": f"{i + 10} Filler Street",
            "city": f"Town{i}",
            "postal_code": str(10000 + i * 37),
        }
        update_contact(con, made.contact_id, profile, made.version, "admin")
    found = {}
    for short, (first, last, email, more) in PAIRS.items():
        made = create_contact(
            con,
            ContactInput(contact_id=short, first_name=first, last_name=last, email=email, tags=more.get("tags", [])),
            "admin",
        )
        rest = {k: v for k, v in more.items() if k != "tags"}
        found[short] = update_contact(con, short, rest, made.version, "admin") if rest else made
    con.close()
    return found


def groups_table(app):
    return app.dataframe[0].value


def listed(app) -> list[str]:
    return sorted(groups_table(app)["members"])


def test_the_first_visit_finds_and_lists_the_groups(people, open_page):
    app = open_page("pages/duplicates.py")
    assert not app.exception
    assert "Last looked for duplicates" in app.caption[0].value
    assert listed(app) == [
        "Dorothy Vaughan, Dorothy Vaughn",  # 0.9-0.97: above the default threshold of 0.5
        "Hedy Lamarr, Hedy Lamarr",
        "John Smith, Johnny Smith",
        "Katherine Johnson, Katherine Johnson",
    ]
    assert [m.value for m in app.metric][:2] == ["4", "8"]
    table = groups_table(app)
    assert set(table["kind"]) == {"exact", "likely"}
    assert "same email" in set(table["evidence"])


def test_kind_and_minimum_score_change_the_list(people, open_page):
    app = open_page("pages/duplicates.py")
    app.segmented_control(key="dup-kind").set_value("Exact").run()
    assert listed(app) == ["Hedy Lamarr, Hedy Lamarr", "John Smith, Johnny Smith"]
    app.segmented_control(key="dup-kind").set_value("Likely").run()
    assert listed(app) == ["Dorothy Vaughan, Dorothy Vaughn", "Katherine Johnson, Katherine Johnson"]
    app.slider(key="dup-score").set_value(0.97).run()
    assert listed(app) == ["Katherine Johnson, Katherine Johnson"]
    app.segmented_control(key="dup-kind").set_value("All").run()
    assert len(listed(app)) == 3


def test_a_group_in_the_url_shows_its_contacts_side_by_side(people, open_page):
    app = open_page("pages/duplicates.py", group="hedy")
    assert not app.exception
    assert app.subheader[0].value == "Group hedy: 2 contacts"
    side = app.dataframe[1].value.set_index("Field")
    assert list(side.columns) == ["≠", "Hedy Lamarr · hedy", "Hedy Lamarr · hedy2"]
    assert [side.loc[field, "≠"] for field in ("Company", "Tags", "Job title")] == ["≠", "≠", "≠"]
    assert [side.loc[field, "≠"] for field in ("First name", "Last name", "Email")] == ["", "", ""]
    assert (side.loc["Tags", "Hedy Lamarr · hedy"], side.loc["Tags", "Hedy Lamarr · hedy2"]) == ("vip", "newsletter")
    assert "Birthday" not in side.index  # neither has one
    reasons = app.dataframe[2].value
    assert list(reasons["Contact"]) == ["Hedy Lamarr · hedy", "Hedy Lamarr · hedy2"]
    assert list(reasons["Best link to"]) == ["Hedy Lamarr · hedy2", "Hedy Lamarr · hedy"]
    assert list(reasons["Evidence"]) == ["same email", "same email"]
    assert list(reasons["Score"]) == [1.0, 1.0]
    evidence = app.dataframe[3].value
    assert list(evidence["Evidence"]) == ["same email"]
    assert {link.value for link in app.page_link} >= {"Hedy Lamarr · hedy", "Hedy Lamarr · hedy2"}


def test_preview_shows_where_each_value_comes_from_and_the_tag_union(people, open_page):
    app = open_page("pages/duplicates.py", group="hedy")
    assert app.multiselect(key="merge-members-hedy").value == ["hedy", "hedy2"]
    primary = app.radio[0]
    assert primary.value == "hedy"  # both have as many fields; the oldest wins the tie
    primary.set_value("hedy2").run()
    next(b for b in app.button if b.label == "Preview merge").click().run()
    assert not app.exception and not app.error
    preview = app.dataframe[4].value.set_index("Field")
    assert preview.loc["Job title", "From"] == "Hedy Lamarr · hedy2"
    assert preview.loc["Company", "From"] == "Hedy Lamarr · hedy"  # a blank of the primary, filled
    assert preview.loc["Company", "Merged value"] == "MGM"
    assert preview.loc["Tags", "≠"] == "≠"
    assert any(text.value == "Tags after the merge: newsletter, vip" for text in app.text)
    assert any(b.label == "Merge" for b in app.button)


def test_not_duplicates_removes_the_group(people, open_page):
    app = open_page("pages/duplicates.py", group="john")
    app.multiselect(key="different-john").set_value(["john", "john2"]).run()
    next(b for b in app.button if b.label == "Mark as not duplicates").click().run()
    assert not app.exception
    assert "Marked 2 contacts as different people" in app.success[0].value
    assert "John Smith, Johnny Smith" not in listed(app)
    assert "group" not in app.query_params
    app.switch_page("pages/contact.py")
    app.query_params["id"] = "john"
    app.run()
    assert not app.warning  # no notice any more: the live check respects the mark too


def test_an_agent_is_not_offered_duplicates(people, app_db):
    app = open_as_agent("duplicates", "Duplicates", user="agent")
    labels = {b.label for b in app.button}
    assert "Preview merge" not in labels and "Mark as not duplicates" not in labels and not app.dataframe


def test_details_page_says_when_a_contact_has_duplicates(people, open_page):
    app = open_page("pages/duplicates.py")  # the first visit runs the detection
    app.switch_page("pages/contact.py")
    app.query_params["id"] = "kath2"
    app.run()
    assert app.warning[0].value == "This contact may have 1 duplicate: Katherine Johnson."
    link = app.page_link[1]
    assert (link.value, link.proto.query_string) == ("Review and merge", "group=kath")


def test_details_page_shows_no_notice_without_duplicates(people, open_page, app_db):
    open_page("pages/duplicates.py")
    app = open_page("pages/contact.py", id=app_db["Alan"].contact_id)
    assert not app.exception
    assert not app.warning
    assert [link.value for link in app.page_link] == ["Back to contacts"]


def test_details_page_finds_a_new_duplicate_before_the_next_run(people, open_page, app_db):
    open_page("pages/duplicates.py")
    twin = create_contact(db(), ContactInput(first_name="Alan", email="ALAN@bletchley.example"), "admin")
    app = open_page("pages/contact.py", id=app_db["Alan"].contact_id)
    assert app.warning[0].value == "This contact may have 1 duplicate: Alan."
    link = app.page_link[1]
    assert (link.value, link.proto.query_string) == ("Find duplicates", f"contact={app_db['Alan'].contact_id}")

    page = open_page("pages/duplicates.py", contact=app_db["Alan"].contact_id)
    assert "did not group" in page.info[0].value
    next(b for b in page.button if b.label == "Find duplicates").click().run()
    group_id = min(app_db["Alan"].contact_id, twin.contact_id)
    assert page.query_params["group"] == group_id and "contact" not in page.query_params
    assert page.subheader[0].value == f"Group {group_id}: 2 contacts"


def test_names_are_shown_as_text(people, open_page):
    con = db()
    for contact_id, email in [("x1", "eve@evil.example"), ("x2", "EVE@evil.example")]:
        given = ContactInput(
            contact_id=contact_id, first_name="**Eve**", last_name="<b>[x](javascript:1)</b>", email=email
        )
        create_contact(con, given, "admin")
    app = open_page("pages/duplicates.py")  # the first visit finds them
    assert "**Eve** <b>[x](javascript:1)</b>, **Eve** <b>[x](javascript:1)</b>" in listed(app)  # table cells are text
    app.query_params["group"] = "x1"
    app.run()
    name = "**Eve** <b>[x](javascript:1)</b> · x1"
    assert app.radio[0].options == [plain(name) + " (most complete)", plain(f"{name[:-1]}2")]
    assert plain(name) in {link.value for link in app.page_link}
    assert name in app.dataframe[1].value.columns


def test_contacts_chosen_in_the_list_are_reviewed_side_by_side_and_previewed(people, open_page):
    app = open_page("pages/duplicates.py", merge="hedy,kath,dot2")
    assert not app.exception
    assert app.subheader[0].value == "Merge 3 chosen contacts"
    assert not app.metric  # no detection run and no group list: just these contacts
    side = app.dataframe[0].value.set_index("Field")
    assert list(side.columns) == ["≠", "Hedy Lamarr · hedy", "Katherine Johnson · kath", "Dorothy Vaughn · dot2"]
    assert app.multiselect(key="merge-members-chosen").value == ["hedy", "kath", "dot2"]
    app.radio[0].set_value("kath").run()
    next(b for b in app.button if b.label == "Preview merge").click().run()
    assert not app.exception and not app.error
    preview = app.dataframe[1].value.set_index("Field")
    assert preview.loc["First name", "Merged value"] == "Katherine"
    assert preview.loc["Company", "From"] == "Hedy Lamarr · hedy"
    assert any(text.value == "Tags after the merge: vip" for text in app.text)
    assert any(b.label == "Merge" for b in app.button)


def test_chosen_contacts_that_are_gone_are_said_and_one_is_not_enough(people, open_page):
    app = open_page("pages/duplicates.py", merge="hedy,nobody")
    assert not app.exception
    assert app.warning[0].value == "1 of the chosen contacts no longer exists: merged or deleted meanwhile."
    assert app.info[0].value == "Choose at least 2 contacts in the Contacts list to merge them."
    assert "Preview merge" not in {b.label for b in app.button}


def test_an_admin_chooses_the_identity_fields(people, open_page):
    define_custom_field(db(), "member_no", "Member number", "text", actor="admin")
    app = open_page("pages/duplicates.py")
    identity = app.multiselect(key="identity-fields")
    assert identity.options == ["Member number"]  # app_db's Plan is a dropdown: it identifies no one
    identity.set_value(["member_no"]).run()
    next(b for b in app.button if b.label == "Save identity fields").click().run()
    assert not app.exception
    assert any(s.value == "Saved. Find duplicates again to use them." for s in app.success)
    assert [f.key for f in custom_fields(db()) if f.is_identity] == ["member_no"]


def test_the_run_summary_shows_each_blocking_rules_pairs(people, open_page):
    app = open_page("pages/duplicates.py")
    counts = app.table[0].value
    assert {"Rule", "Pairs", "Left out (block cap or budget)", "Largest block"} <= set(counts.columns)
    assert "first and last name" in set(counts["Rule"])
    assert (counts["Pairs"] >= 0).all()
