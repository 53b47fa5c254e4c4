"""The filter builder, saving a segment, bulk actions on the list, and the Segments page, under AppTest."""

import pytest

from core.db import open_database
from core.views.filters import parse_filter
from core.views.segments import save_segment, saved_segments


def emails(app) -> list[str]:
    """The emails the list shows (none when it says nothing matches)."""
    return sorted(app.dataframe[0].value["email"].tolist()) if app.dataframe else []


def add_condition(app, field: str, op: str, kind: str, row: int = 1):
    """Add a row to the list's filter and choose its field and operator."""
    app.button(key="list_filter-add-condition").click().run()
    app.selectbox(key=f"list_filter-{row}-field").set_value(field).run()
    app.selectbox(key=f"list_filter-{row}-op-{kind}").set_value(op).run()
    return app


def test_a_condition_filters_the_list_and_reads_as_a_sentence(open_page):
    app = add_condition(open_page("pages/contacts.py"), "email", "contains", "text")
    assert len(emails(app)) == 3  # no value yet: the condition waits
    assert any("missing a value" in caption.value for caption in app.caption)
    app.text_input(key="list_filter-1-value-email-contains").input("NAVY").run()
    assert not app.exception
    assert emails(app) == ["grace@navy.example"]
    assert "Filter: Email contains 'NAVY'" in [caption.value for caption in app.caption]


def test_two_conditions_on_system_and_custom_fields_combine_with_or(open_page):
    app = add_condition(open_page("pages/contacts.py"), "custom.plan", "any_of", "choice")
    app.multiselect(key="list_filter-1-value-custom.plan-any_of").set_value(["Free"]).run()
    add_condition(app, "owner_id", "any_of", "choice", row=2)
    app.multiselect(key="list_filter-2-value-owner_id-any_of").set_value(["maria"]).run()
    assert emails(app) == []  # AND: nobody is on Free and owned by Maria
    assert "No contacts match this view" in app.info[0].value
    app.radio(key="list_filter-match").set_value("any").run()
    assert emails(app) == ["ada@engine.example", "alan@bletchley.example"]
    assert "Filter: Plan is any of Free or Owner is any of Maria Lopez" in [c.value for c in app.caption]


def test_a_filter_saved_as_a_segment_becomes_the_view(open_page):
    app = add_condition(open_page("pages/contacts.py"), "email", "ends_with", "text")
    app.text_input(key="list_filter-1-value-email-ends_with").input(".example").run()
    add_condition(app, "owner_id", "is_empty", "choice", row=2)
    app.text_input(key="list_filter-segment-name").input("Unowned examples").run()
    app.button(key="list_filter-save").click().run()
    assert not app.exception
    assert app.query_params["segment"].startswith("saved-")
    assert app.selectbox[0].value == app.query_params["segment"]
    assert emails(app) == ["alan@bletchley.example"]
    assert not any(caption.value.startswith("Filter:") for caption in app.caption)  # the filter became the segment


def test_a_taken_segment_name_is_refused_next_to_the_button(open_page):
    app = add_condition(open_page("pages/contacts.py"), "email", "contains", "text")
    app.text_input(key="list_filter-1-value-email-contains").input("a").run()
    app.text_input(key="list_filter-segment-name").input("Blocked").run()
    app.button(key="list_filter-save").click().run()
    assert "is reserved" in app.error[0].value
    assert "segment" not in app.query_params or app.query_params["segment"] == "all"


def test_with_nothing_selected_add_tags_covers_the_whole_view(open_page):
    app = open_page("pages/contacts.py", q="example")
    assert "Actions apply to the 3 contacts in this view." in [c.value for c in app.caption]
    app.multiselect(key="bulk-add_tags-tags").set_value(["Spring"]).run()
    assert app.button(key="bulk-add_tags-go").label == "Add to 3 contacts"
    app.button(key="bulk-add_tags-go").click().run()
    assert app.success[0].value == "Tagged 3 contacts."
    assert sorted(app.dataframe[0].value["tags"].tolist()) == ["Spring", "Spring", "Spring"]


def test_bulk_delete_asks_for_the_number(open_page):
    app = open_page("pages/contacts.py", q="bletchley")
    assert app.button(key="bulk-delete-go").disabled
    app.text_input(key="bulk-delete-typed").input("1").run()
    app.button(key="bulk-delete-go").click().run()
    assert app.success[0].value == "Deleted 1 contact."
    assert "No contacts match this view" in app.info[0].value


def test_agents_see_no_bulk_actions(open_page, monkeypatch):
    monkeypatch.setenv("CONTACTS_USER", "maria")
    app = open_page("pages/contacts.py")
    assert not [button for button in app.button if str(button.key).startswith("bulk-")]


@pytest.fixture
def with_segment(app_db):
    import os

    con = open_database(os.environ["CONTACTS_DB"])
    saved = save_segment(
        con,
        "Pro plan",
        parse_filter({"conditions": [{"field": "custom.plan", "op": "any_of", "value": ["Pro"]}]}),
        "admin",
    )
    con.close()
    return saved


def test_segments_page_lists_counts_and_descriptions(open_page, with_segment):
    app = open_page("pages/segments.py")
    assert not app.exception
    listed = app.dataframe[0].value
    assert listed["name"].tolist() == ["All contacts", "My contacts", "Unassigned", "Blocked", "Pro plan"]
    assert listed["contacts"].tolist() == [3, 1, 1, 0, 1]
    assert listed["description"].tolist()[-1] == "Plan is any of Pro"


def button(app, label: str):
    return next(found for found in app.button if found.label == label)


def test_segments_page_renames_and_deletes_a_saved_segment(open_page, with_segment):
    app = open_page("pages/segments.py", segment=with_segment.key)
    assert app.selectbox(key="segment-pick").value == with_segment.key
    app.text_input(key=f"rename-{with_segment.key}").input("Pro customers").run()
    button(app, "Rename").click().run()
    assert [segment.name for segment in saved()] == ["Pro customers"]
    button(app, "Yes, delete the segment").click().run()
    assert not app.exception
    assert saved() == []


def test_segments_page_edits_a_saved_segments_conditions(open_page, with_segment):
    app = open_page("pages/segments.py", segment=with_segment.key)
    draft = f"segment-edit-{with_segment.segment_id}"
    assert app.multiselect(key=f"{draft}-1-value-custom.plan-any_of").value == ["Pro"]
    assert button(app, "Save conditions").disabled  # nothing changed yet
    app.multiselect(key=f"{draft}-1-value-custom.plan-any_of").set_value(["Pro", "Free"]).run()
    button(app, "Save conditions").click().run()
    assert not app.exception
    assert [segment.description for segment in saved()] == ["Plan is any of Pro, Free"]
    assert app.dataframe[0].value["contacts"].tolist()[-1] == 2


def saved():
    """The saved segments, read through the app's own connection (the file is open in this process)."""
    import os

    from ui.session import _connection

    return saved_segments(_connection(os.environ["CONTACTS_DB"]).cursor())
