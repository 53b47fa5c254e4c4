"""Review a duplicate group, merge it into a chosen primary and confirm "Yes, merge"; merge many at once.

Each test starts its own server on its own database: the merges delete contacts other tests look for.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.accounts.users import create_first_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from tests.browser.conftest import PASSWORDS, StreamlitServer, _require_browser, sign_in, wait_for_app
from tests.browser.test_contacts_browser import search

pytestmark = pytest.mark.browser


def seed_duplicates(path: Path) -> None:
    """Three exact pairs: Grace Hopper twice (the first more complete), and two more for "Merge many"."""
    con = open_database(path)
    create_first_admin(con, "admin", "Admin", PASSWORDS["admin"])
    people = [
        ("g1", "Grace", "Hopper", "grace@navy.example", ["vip"], "Navy", "Rear admiral"),
        ("g2", "Grace", "Hopper", "GRACE@navy.example", ["newsletter"], None, None),
        ("m1", "Mary", "Jackson", "mary.jackson@gmail.com", ["engineer"], None, None),
        ("m2", "Mary", "Jackson", "maryjackson@gmail.com", [], None, None),
        ("n1", "Annie", "Easley", "annie@nasa.example", [], None, None),
        ("n2", "Annie", "Easley", "Annie@NASA.example", ["beta"], None, None),
        ("solo", "Alan", "Turing", "alan@bletchley.example", [], None, None),
    ]
    for contact_id, first, last, email, tags, company, job in people:
        given = ContactInput(
            contact_id=contact_id,
            first_name=first,
            last_name=last,
            email=email,
            tags=tags,
            company=company,
            job_title=job,
        )
        create_contact(con, given, "admin")
    con.close()


@pytest.fixture
def dup_server(tmp_path: Path) -> Iterator[StreamlitServer]:
    _require_browser()
    database = tmp_path / "duplicates.duckdb"
    seed_duplicates(database)
    running = StreamlitServer(database)
    yield running
    running.stop()


@pytest.fixture
def page(anonymous_page: object, dup_server: StreamlitServer) -> object:
    """Signed in as the admin on this test's own server."""
    sign_in(anonymous_page, dup_server)
    return anonymous_page


def click_first_row(page: object) -> None:
    """Select the grid's first row by its selection marker (the grid draws on a canvas)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("[role='gridcell']").first.wait_for(state="attached")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    wait_for_app(page)


def test_review_a_group_and_merge_it_into_another_primary(dup_server, page):
    page.goto(dup_server.url + "/duplicates")
    wait_for_app(page)
    expect(page.get_by_text("3 groups · page 1 of 1")).to_be_visible()

    click_first_row(page)  # the groups are sorted by score, then size, then ID: Grace's group comes first
    expect(page.get_by_role("heading", name="Group g1: 2 contacts")).to_be_visible()
    assert "group=g1" in page.url

    # The more complete contact is proposed as primary; choose the other one.
    expect(page.get_by_role("radio", name="Grace Hopper · g1 (most complete)")).to_be_checked()
    page.get_by_text("Grace Hopper · g2", exact=True).last.click()
    wait_for_app(page)
    page.get_by_role("button", name="Preview merge").click()
    wait_for_app(page)
    expect(page.get_by_text("Tags after the merge: newsletter, vip")).to_be_visible()

    page.get_by_role("button", name="Merge", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Merge duplicates")).to_be_visible()
    expect(dialog).to_contain_text("Merge 2 contacts into Grace Hopper · g2?")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Yes, merge").click()
    wait_for_app(page)
    expect(page.get_by_text("Merged 2 contacts into Grace Hopper · g2.")).to_be_visible()
    expect(page.get_by_text("2 groups · page 1 of 1")).to_be_visible()
    assert "group=" not in page.url

    # The primary holds both contacts' tags; the secondary is gone.
    page.get_by_role("link", name="Open the merged contact").click()
    page.wait_for_url(re.compile(r"/contact\?id=g2"))
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Grace Hopper", level=1)).to_be_visible()
    tags = page.locator("[data-testid='stMultiSelect']").filter(has_text="Tags")
    expect(tags).to_contain_text("newsletter")
    expect(tags).to_contain_text("vip")
    expect(page.get_by_label("Company")).to_have_value("Navy")  # a blank of the primary, filled by g1
    page.goto(dup_server.url + "/contact?id=g1")  # an old link to the secondary leads to the primary
    wait_for_app(page)
    expect(page.get_by_text("Contact g1 was merged into this contact.")).to_be_visible()
    expect(page.get_by_role("heading", name="Grace Hopper", level=1)).to_be_visible()
    page.wait_for_url(re.compile(r"/contact\?id=g2"))


def test_merge_many_groups_at_once(dup_server, page):
    page.goto(dup_server.url + "/duplicates")
    wait_for_app(page)
    expect(page.get_by_text("3 groups · page 1 of 1")).to_be_visible()
    page.get_by_text("Merge many groups at once").click()
    wait_for_app(page)
    expect(page.get_by_text("3 groups, 3 contacts will be merged into 3 primaries")).to_be_visible()
    expect(page.get_by_text("0 groups larger than 25 are left for review")).to_be_visible()

    page.get_by_role("button", name="Merge 3 groups").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("3 contacts are merged into 3 primaries and deleted")
    dialog.get_by_role("button", name="Yes, merge 3 groups").click()
    wait_for_app(page)
    expect(page.get_by_text("Merged 3 groups: 3 contacts merged into their primaries.")).to_be_visible()
    expect(page.get_by_text("0 groups · page 1 of 1")).to_be_visible()

    # "Oldest" kept the first contact of each pair, with the union of the tags.
    page.goto(dup_server.url + "/contact?id=n1")
    wait_for_app(page)
    expect(page.locator("[data-testid='stMultiSelect']").filter(has_text="Tags")).to_contain_text("beta")
    page.goto(dup_server.url + "/contact?id=m2")
    wait_for_app(page)
    expect(page.get_by_text("Contact m2 was merged into this contact.")).to_be_visible()


def test_a_contact_changed_after_the_preview_is_not_merged(dup_server, page):
    page.goto(dup_server.url + "/duplicates?group=m1")
    wait_for_app(page)
    page.get_by_role("button", name="Preview merge").click()
    wait_for_app(page)
    expect(page.get_by_text("Tags after the merge: engineer")).to_be_visible()

    # Someone else edits one of the contacts while the preview is open.
    other = page.context.new_page()
    other.goto(dup_server.url + "/contact?id=m2")
    wait_for_app(other)
    expect(other.get_by_text("This contact may have 1 duplicate: Mary Jackson.")).to_be_visible()
    other.get_by_label("Company").fill("Langley")
    other.get_by_role("button", name="Save changes").click()
    wait_for_app(other)

    page.get_by_role("button", name="Merge", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Yes, merge").click()
    wait_for_app(page)
    expect(dialog).to_contain_text("changed by someone else since the preview; preview again. Nothing was changed.")
    other.goto(dup_server.url + "/contact?id=m2")
    wait_for_app(other)
    expect(other.get_by_label("Company")).to_have_value("Langley")
    expect(other.get_by_role("heading", name="Mary Jackson", level=1)).to_be_visible()


def test_merge_contacts_chosen_in_the_contacts_list(dup_server, page):
    search(page, dup_server.url, "Annie", found="2 contacts · page 1 of 1")
    box = page.locator("[data-testid='stDataFrame']").bounding_box()
    for row in (1, 2):  # each row's selection checkbox (the grid draws on a canvas)
        page.mouse.click(box["x"] + 15, box["y"] + 35 * row + 17)
        wait_for_app(page)

    page.get_by_role("button", name="Merge 2 contacts").click()
    page.wait_for_url(re.compile(r"/duplicates\?merge="))
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Merge 2 chosen contacts")).to_be_visible()
    page.get_by_role("button", name="Preview merge").click()
    wait_for_app(page)
    expect(page.get_by_text("Tags after the merge: beta")).to_be_visible()
    page.get_by_role("button", name="Merge", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Merge 2 contacts into Annie Easley")
    dialog.get_by_role("button", name="Yes, merge").click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"Merged 2 contacts into Annie Easley · n[12]\."))).to_be_visible()
    assert "merge=" not in page.url

    search(page, dup_server.url, "Annie")  # one of the two is left
