"""Accounts in a real browser: an admin signs in, makes a dropdown field and an agent, signs out; the agent signs
in and finds no Import, Settings or bulk delete, and editing another agent's contact is refused.

Its own server: it adds a field and a user that other modules' tests do not expect.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import StreamlitServer, _require_browser, pick_option, seed_database, sign_in, wait_for_app
from tests.browser.test_contacts_browser import search_and_open

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "li-wei-password"


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    _require_browser()
    database: Path = tmp_path_factory.mktemp("accounts") / "contacts.duckdb"
    seed_database(database)
    running = StreamlitServer(database)
    yield running
    running.stop()


def nav_titles(page: object) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    return [text.strip().splitlines()[-1] for text in links.all_inner_texts()]


def test_a_wrong_password_says_so_and_a_reload_keeps_the_session(accounts_server, anonymous_page):
    page = anonymous_page
    page.goto(accounts_server.url + "/contacts")
    page.wait_for_url(accounts_server.url + "/api/login")  # not signed in: sent to the form
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_text("Wrong user name or password.")).to_be_visible()
    sign_in(page, accounts_server)
    page.goto(accounts_server.url + "/contacts")
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    expect(page.get_by_text("Signed in as admin")).to_be_visible()


def test_admin_makes_a_field_and_an_agent_who_gets_a_smaller_app(accounts_server, anonymous_page):
    page = anonymous_page
    sign_in(page, accounts_server)
    page.goto(accounts_server.url + "/settings")
    wait_for_app(page)
    page.get_by_label("Key (lower-case letters, digits, underscores)").fill("tier")
    page.get_by_label("Label", exact=True).fill("Tier")
    pick_option(page, page.get_by_label("Type", exact=True), "dropdown")
    page.get_by_label("Dropdown options, separated by commas").fill("Gold, Silver")
    page.get_by_role("button", name="Create field").click()
    wait_for_app(page)

    # The new field is a column choice and a filter field.
    page.goto(accounts_server.url + "/contacts")
    wait_for_app(page)
    page.get_by_role("button", name="Customise table").click()
    page.get_by_label("Fields visible in table").click()
    page.keyboard.type("Tier")  # the list is long and drawn as it scrolls: narrow it
    expect(page.get_by_role("option", name="Tier", exact=True)).to_be_visible()
    page.goto(accounts_server.url + "/contacts")
    wait_for_app(page)
    page.get_by_text("Filter", exact=True).click()
    page.get_by_role("button", name="Add condition").click()
    wait_for_app(page)
    pick_option(page, page.get_by_label("Field", exact=True).first, "Tier", typed="Tier")

    page.goto(accounts_server.url + "/settings")
    wait_for_app(page)
    page.get_by_role("tab", name="Users").click()
    page.get_by_label("User name", exact=True).fill("li")
    page.get_by_label("Full name", exact=True).fill("Li Wei")
    page.get_by_label("Password (at least 10 characters)").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Add user").click()
    wait_for_app(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(accounts_server.url + "/api/login")

    sign_in(page, accounts_server, "li", AGENT_PASSWORD)
    assert nav_titles(page) == ["Dashboard", "Contacts", "Segments"]
    page.goto(accounts_server.url + "/import")
    wait_for_app(page)
    expect(page.get_by_text("Only admins can use Import.")).to_be_visible()
    page.goto(accounts_server.url + "/contacts")
    wait_for_app(page)
    expect(page.get_by_text("Signed in as li")).to_be_visible()
    assert page.get_by_role("button", name="Delete", exact=True).count() == 0

    # Grace belongs to Maria: Li may read her but not change her.
    search_and_open(page, accounts_server.url, "grace@navy")
    page.get_by_label("Job title").fill("Admiral")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    expect(page.get_by_text("Agents edit only their own contacts and unassigned ones")).to_be_visible()
