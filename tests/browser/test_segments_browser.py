"""Build a two-condition filter, save it as a segment, tag the whole segment with nothing selected, in Chromium."""

from playwright.sync_api import expect

from tests.browser.conftest import pick_option, wait_for_app

GRID_CELLS = "[data-testid='stDataFrame'] [role='gridcell']"


def choose(page: object, label: str, option: str, nth: int = 0) -> None:
    """Pick an option of the nth select box with this (possibly hidden) label."""
    pick_option(page, page.get_by_label(label).nth(nth), option)


def add_condition(page: object, row: int, field: str, operator: str, value: str) -> None:
    """Add the filter's next row: field, operator and text value."""
    page.get_by_role("button", name="Add condition").click()
    wait_for_app(page)
    choose(page, "Field", field, row)
    choose(page, "Operator", operator, row)
    page.get_by_label("Value").nth(row).fill(value)
    page.keyboard.press("Enter")
    wait_for_app(page)


def test_filter_save_as_segment_then_tag_the_whole_segment(server, page):
    page.goto(server.url + "/contacts")
    wait_for_app(page)
    page.get_by_text("Filter", exact=True).click()

    # Person1 and Person10..Person19 start with 'person1' and all have example.com addresses.
    add_condition(page, 0, "Email", "ends with", "example.com")
    expect(page.get_by_text("60 contacts · page 1 of 2")).to_be_visible()
    add_condition(page, 1, "First name", "starts with", "person1")
    sentence = "Filter: Email ends with 'example.com' and First name starts with 'person1'"
    expect(page.get_by_text(sentence)).to_be_visible()
    expect(page.get_by_text("11 contacts · page 1 of 1")).to_be_visible()

    page.get_by_label("Segment name").fill("Person ones")
    page.get_by_role("button", name="Save as segment").click()
    wait_for_app(page)
    expect(page.get_by_text("11 contacts · page 1 of 1")).to_be_visible()
    assert "segment=saved-" in page.url
    expect(page.get_by_text("Filter: ")).to_have_count(0)  # the filter is now the segment itself

    # Nothing selected: the action covers the whole segment and says how many first.
    expect(page.get_by_text("Actions apply to the 11 contacts in this view.")).to_be_visible()
    page.get_by_role("button", name="Add tags").click()
    page.get_by_label("Tags to add").fill("Cohort")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.keyboard.press("Escape")  # close the tag list (it covers the button); the popover stays open
    if not page.get_by_role("button", name="Add to 11 contacts").is_visible():
        page.get_by_role("button", name="Add tags").click()
    page.get_by_role("button", name="Add to 11 contacts").click()
    wait_for_app(page)
    expect(page.get_by_text("Tagged 11 contacts.")).to_be_visible()

    tagged = page.locator(GRID_CELLS).filter(has_text="Cohort")
    tagged.first.wait_for(state="attached")
    assert tagged.count() == 11

    # The Segments page counts the segment the same way.
    page.goto(server.url + "/segments")
    wait_for_app(page)
    row = page.locator("[data-testid='stDataFrame'] [role='row']").filter(has_text="Person ones")
    row.wait_for(state="attached")
    cells = row.locator("[role='gridcell']")
    assert [cells.nth(index).inner_text().strip() for index in range(1, 3)] == ["saved", "11"]
