"""Settings under AppTest: admins create a dropdown field, add an agent, add a lead stage; agents get a refusal."""

from core.contacts.validation import custom_fields
from core.workspace import lead_stages, owners
from tests.pages.conftest import open_as_agent
from ui.session import db


def by_label(elements, label: str):  # type: ignore[no-untyped-def]
    return next(element for element in elements if element.label == label)


def test_an_admin_creates_a_dropdown_field(open_page):
    app = open_page("pages/settings.py")
    assert not app.exception
    by_label(app.text_input, "Key (lower-case letters, digits, underscores)").input("tier")
    by_label(app.text_input, "Label").input("Tier")
    by_label(app.selectbox, "Type").set_value("dropdown")
    by_label(app.text_input, "Dropdown options, separated by commas").input("Gold, Silver")
    app.button(key="FormSubmitter:new-field-Create field").click().run()
    assert not app.exception and not app.error
    tier = next(f for f in custom_fields(db()) if f.key == "tier")
    assert (tier.type, tier.options) == ("dropdown", ["Gold", "Silver"])


def test_an_admin_adds_an_agent_and_a_stage(open_page):
    app = open_page("pages/settings.py")
    by_label(app.text_input, "User name").input("li")
    by_label(app.text_input, "Full name").input("Li Wei")
    by_label(app.text_input, "Password (at least 10 characters)").input("li-password-1")
    app.button(key="FormSubmitter:new-user-Add user").click().run()
    assert not app.error and owners(db())["li"] == "Li Wei"
    by_label(app.text_input, "New stage").input("Churned risk").run()
    next(b for b in app.button if b.label == "Add stage").click().run()
    assert lead_stages(db())[-1] == "Churned risk"


def test_a_wrong_step_shows_why(open_page):
    app = open_page("pages/settings.py")
    by_label(app.text_input, "User name").input("Bad Name!")
    by_label(app.text_input, "Full name").input("X")
    by_label(app.text_input, "Password (at least 10 characters)").input("long-enough-pw")
    app.button(key="FormSubmitter:new-user-Add user").click().run()
    assert any("A user name is lower-case" in e.value for e in app.error)


def test_agents_get_a_refusal(app_db):
    open_as_agent("settings", "Settings")


def test_an_empty_workspace_asks_for_its_first_admin(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.accounts.sessions import sign_in
    from core.db import open_database
    from tests.pages.conftest import ROOT
    from ui.session import _connection

    database = tmp_path / "empty.duckdb"
    open_database(database).close()
    monkeypatch.setenv("CONTACTS_DB", str(database))
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
        assert app.title[0].value == "Set up Contacts"
        by_label(app.text_input, "Full name").input("Boss")
        by_label(app.text_input, "Password (at least 10 characters)").input("first-admin-pw")
        by_label(app.text_input, "Password again").input("first-admin-pw")
        app.button(key="FormSubmitter:first-admin-Create the admin").click().run()
        assert not app.error
        assert sign_in(db(), "admin", "first-admin-pw", "test")
        assert app.run().title[0].value == "Sign in to Contacts"  # next: the sign-in form
    finally:
        _connection.clear()
