"""The Dashboard in a real browser: a click on a bar opens the list filtered to the contacts it counts."""

import time

from tests.browser.conftest import wait_for_app


def click_bar(page: object, chart: str, index: int = 0) -> None:
    """Click the middle of one bar of a keyed Plotly chart (Plotly takes the click on its drag layer above)."""
    bar = page.locator(f".st-key-{chart} g.point path").nth(index)
    bar.scroll_into_view_if_needed()
    time.sleep(0.5)  # the chart settles after scrolling
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_app(page)


def test_the_dashboard_is_the_home_page(server, page):
    page.goto(server.url + "/")
    wait_for_app(page)
    page.get_by_role("heading", name="Dashboard").wait_for()
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Contacts").first
    assert "63" in metric.inner_text()


def test_a_bar_opens_the_list_filtered_to_its_contacts_and_a_reload_keeps_page_two(server, page):
    page.goto(server.url + "/")
    wait_for_app(page)
    click_bar(page, "chart-owners", 0)  # the tallest bar: the 62 contacts without an owner
    page.wait_for_url("**/contacts?**")
    page.get_by_text("Filter: Owner is empty").wait_for()
    page.get_by_text("62 contacts · page 1 of 2").wait_for()
    page.get_by_role("button", name="Next").click()
    wait_for_app(page)
    page.get_by_text("62 contacts · page 2 of 2").wait_for()
    page.reload()
    wait_for_app(page)
    page.get_by_text("62 contacts · page 2 of 2").wait_for()  # the filter and the page survive a reload
    page.get_by_text("Filter: Owner is empty").wait_for()
    shared = page.url
    other = page.context.new_page()  # and a shared link opens the same view
    other.goto(shared)
    wait_for_app(other)
    other.get_by_text("62 contacts · page 2 of 2").wait_for()
    other.close()
