"""The Contacts list page under AppTest."""

from core.dashboard.drill import choice_filter
from core.views.filters import filter_to_url


def rows_shown(app) -> list[str]:
    return app.dataframe[0].value["email"].tolist()


def count_caption(app) -> str:
    return next(caption.value for caption in app.caption if " · page " in caption.value)


def test_lists_every_unblocked_contact_with_the_total(open_page):
    app = open_page("pages/contacts.py")
    assert not app.exception
    assert count_caption(app).startswith("3 contacts · page 1 of 1 · sorted by Last updated, newest first")
    assert sorted(rows_shown(app)) == ["ada@engine.example", "alan@bletchley.example", "grace@navy.example"]


def test_search_narrows_the_list_and_lands_in_the_url(open_page):
    app = open_page("pages/contacts.py")
    app.text_input[0].input("bletchley").run()
    assert rows_shown(app) == ["alan@bletchley.example"]
    assert app.query_params["q"] == "bletchley"


def test_search_matches_custom_fields_as_whole_words(open_page):
    app = open_page("pages/contacts.py", q="pro")
    assert rows_shown(app) == ["grace@navy.example"]


def test_segments_come_from_the_url(open_page):
    assert rows_shown(open_page("pages/contacts.py", segment="unassigned")) == ["alan@bletchley.example"]
    assert rows_shown(open_page("pages/contacts.py", segment="mine")) == ["grace@navy.example"]


def test_a_filter_comes_from_the_url_into_the_builder_and_stays_there(open_page):
    wanted = filter_to_url(choice_filter("owner_id", "maria"))
    app = open_page("pages/contacts.py", filter=wanted)
    assert not app.exception
    assert rows_shown(app) == ["ada@engine.example"]
    assert "Filter: Owner is any of Maria Lopez" in [caption.value for caption in app.caption]
    assert app.multiselect(key="list_filter-1-value-owner_id-any_of").value == ["maria"]
    assert app.query_params["filter"] == wanted
    app.text_input[0].input("engine").run()  # the filter stays while the search changes
    assert rows_shown(app) == ["ada@engine.example"] and app.query_params["filter"] == wanted


def test_an_empty_result_says_so_without_a_pager(open_page):
    app = open_page("pages/contacts.py", q="nobody-at-all")
    assert not app.exception
    assert "No contacts match this view" in app.info[0].value
    assert not app.dataframe
    assert "Next" not in [button.label for button in app.button]


def test_owners_show_as_names(open_page):
    app = open_page("pages/contacts.py", sort="email", dir="asc")
    assert app.dataframe[0].value["owner_id"].tolist() == ["Maria Lopez", "", "Admin"]


def test_customise_table_keeps_every_change_and_the_order(open_page, app_db):
    app = open_page("pages/contacts.py")
    app.multiselect(key="table-columns").set_value(["email", "custom.plan", "first_name", "last_name"]).run()
    app.multiselect(key="table-columns").set_value(["email", "custom.plan", "first_name"]).run()  # a second change
    assert list(app.dataframe[0].value.columns) == ["email", "custom.plan", "first_name", "link"]
    app.button(key="table-columns-up-first_name").click().run()
    assert list(app.dataframe[0].value.columns) == ["email", "first_name", "custom.plan", "link"]
    again = open_page("pages/contacts.py")
    assert list(again.dataframe[0].value.columns) == ["email", "first_name", "custom.plan", "link"]
    assert again.dataframe[0].value["custom.plan"].tolist().count("Pro") == 1


def test_sort_by_email_ascending(open_page):
    app = open_page("pages/contacts.py", sort="email", dir="asc")
    assert rows_shown(app) == ["ada@engine.example", "alan@bletchley.example", "grace@navy.example"]
    assert "sorted by Email, A to Z" in count_caption(app)


def test_a_bulk_action_says_why_it_changed_fewer_contacts(open_page):
    app = open_page("pages/contacts.py")
    app.selectbox(key="bulk-assign-owner").set_value("admin").run()
    app.button(key="bulk-assign-go").click().run()
    assert app.success[0].value == "Assigned 2 contacts. 1 already had that owner."
