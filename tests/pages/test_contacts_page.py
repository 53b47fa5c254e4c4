"""The Contacts list page under AppTest."""


def rows_shown(app) -> list[str]:
    return app.dataframe[0].value["email"].tolist()


def test_lists_every_unblocked_contact_with_the_total(open_page):
    app = open_page("pages/contacts.py")
    assert not app.exception
    assert app.caption[0].value.startswith("3 contacts")
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


def test_customise_table_is_kept_for_the_user(open_page, app_db):
    app = open_page("pages/contacts.py")
    app.multiselect[0].set_value(["email", "custom.plan", "first_name"]).run()
    assert list(app.dataframe[0].value.columns) == ["email", "custom.plan", "first_name", "link"]
    again = open_page("pages/contacts.py")
    assert list(again.dataframe[0].value.columns) == ["email", "custom.plan", "first_name", "link"]
    assert again.dataframe[0].value["custom.plan"].tolist().count("Pro") == 1


def test_sort_by_email_ascending(open_page):
    app = open_page("pages/contacts.py", sort="email", dir="asc")
    assert rows_shown(app) == ["ada@engine.example", "alan@bletchley.example", "grace@navy.example"]
