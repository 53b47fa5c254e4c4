"""Search, open, edit and reload in a real browser; names show as text, never as HTML."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser.conftest import wait_for_app

SEARCH_BOX = "Name, email, phone or custom field"


def grid_cell(page: object, text: str) -> object:
    """A visible table cell with exactly this text (the grid draws on a canvas, mirrored for accessibility)."""
    return page.locator("[data-testid='stDataFrame'] [role='gridcell']").filter(has_text=text).first


def search(page: object, base_url: str, query: str, found: str = "1 contact · page 1 of 1") -> None:
    """Open the list, search it and wait for the count the search should find."""
    page.goto(base_url + "/contacts")
    wait_for_app(page)
    page.get_by_placeholder(SEARCH_BOX).fill(query)
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text(found).wait_for()


def search_and_open(page: object, base_url: str, query: str) -> None:
    """Search the list, select the single match and open it."""
    search(page, base_url, query)
    grid = page.locator("[data-testid='stDataFrame']").bounding_box()
    page.mouse.click(grid["x"] + 15, grid["y"] + 35 + 17)  # the first row's selection checkbox
    wait_for_app(page)
    page.get_by_role("button", name="Open contact").click()
    page.wait_for_url(re.compile(r"/contact\?id="))
    wait_for_app(page)


def test_search_finds_a_contact_by_phone_in_any_format(server, page):
    search(page, server.url, "(415) 555-0101")
    assert "q=%28415%29+555-0101" in page.url or "q=(415)" in page.url
    grid_cell(page, "Hopper").wait_for(state="attached")


def test_edit_a_field_and_see_it_kept_after_reload(server, page):
    search_and_open(page, server.url, "grace")
    assert "/contact?id=" in page.url
    page.get_by_role("heading", name="Grace Hopper").wait_for()
    page.get_by_label("Company").fill("Navy Research Lab")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Company")).to_have_value("Navy Research Lab")
    page.get_by_text("Company: Navy Research Lab").wait_for()  # the timeline's activity entry


def test_invalid_email_is_refused_at_the_field(server, page):
    search_and_open(page, server.url, "alan")
    page.get_by_label("Email", exact=True).fill("alan@@bletchley")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    page.get_by_text("is not a valid email address").wait_for()
    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Email", exact=True)).to_have_value("alan@bletchley.example")


def test_a_script_in_a_name_shows_as_text(server, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    search_and_open(page, server.url, "mallory")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().strip() == "<script>alert(1)</script> Mallory"
    assert page.locator("script:text('alert(1)')").count() == 0
    assert dialogs == []


def test_block_then_unblock_moves_the_contact_between_segments(server, page):
    search_and_open(page, server.url, "person7@")
    page.get_by_role("button", name="Block contact").click()
    wait_for_app(page)
    page.get_by_text("chat and inbox events from this contact are refused").wait_for()
    page.goto(server.url + "/contacts?segment=blocked")
    wait_for_app(page)
    page.get_by_text("1 contact · page 1 of 1").wait_for()
    grid_cell(page, "person7@example.com").wait_for(state="attached")


def test_delete_asks_for_the_number_then_removes_the_contact(server, page):
    search_and_open(page, server.url, "person9@")
    page.get_by_text("Delete contact").first.click()
    button = page.get_by_role("button", name="Delete contact")
    assert button.is_disabled()
    page.get_by_label("Type 1 to confirm").fill("1")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Delete contact").click()
    page.wait_for_url(re.compile(r"localhost:\d+/contacts(\?.*)?$"))  # back on the list
    wait_for_app(page)
    page.goto(server.url + "/contacts?q=person9%40")
    wait_for_app(page)
    page.get_by_text("No contacts match this view").wait_for()
    assert page.get_by_role("button", name="Next").count() == 0


def header_click(page: object) -> None:
    """Click the header of the table's first column (the grid is drawn on a canvas: by position)."""
    grid = page.locator("[data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 80, box["y"] + 17)  # past the row checkboxes, in the header row
    wait_for_app(page)


def test_a_header_click_sorts_the_whole_view_across_pages(server, page):
    page.goto(server.url + "/contacts")
    wait_for_app(page)
    header_click(page)  # First name
    page.get_by_text("page 1 of 2 · sorted by First name, A to Z").wait_for()
    assert "sort=first_name" in page.url and "dir=asc" in page.url
    grid_cell(page, "Alan").wait_for(state="attached")
    page.get_by_role("button", name="Next").click()
    wait_for_app(page)
    page.get_by_text("page 2 of 2 · sorted by First name, A to Z").wait_for()
    grid_cell(page, "Person8").wait_for(state="attached")  # among the last names A to Z, on the second page
    assert grid_cell(page, "Alan").count() == 0
    header_click(page)  # again: the other way round, from the first page
    page.get_by_text("page 1 of 2 · sorted by First name, Z to A").wait_for()
    grid_cell(page, "Person8").wait_for(state="attached")


def test_three_column_changes_in_one_opening_are_all_kept(server, page):
    page.goto(server.url + "/contacts")
    wait_for_app(page)
    page.get_by_role("button", name="Customise table").click()
    page.get_by_role("button", name="Remove Phone", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Remove Tags", exact=True).click()
    wait_for_app(page)
    page.locator(".st-key-table-columns-up-email button").first.click()
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    headers = page.locator("[data-testid='stDataFrame'] [role='columnheader']")
    headers.first.wait_for(state="attached")
    shown = [headers.nth(i).inner_text() for i in range(headers.count())]
    assert shown == ["First name", "Email", "Last name", "Lead stage", "Owner", "Last updated ↓", "Open"]


def test_block_from_the_details_page_then_save_an_edit(server, page):
    search_and_open(page, server.url, "person11@")
    page.get_by_role("button", name="Block contact").click()
    wait_for_app(page)
    page.get_by_text("chat and inbox events from this contact are refused").wait_for()
    assert page.get_by_text("Someone changed this contact").count() == 0  # our own block is no one else's change
    page.get_by_label("Company").fill("Blocked Ltd")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    assert page.get_by_text("Someone changed this contact").count() == 0
    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Company")).to_have_value("Blocked Ltd")
    page.get_by_role("button", name="Unblock contact").click()
    wait_for_app(page)
    page.get_by_label("Company").fill("Unblocked Ltd")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Company")).to_have_value("Unblocked Ltd")


def test_a_conversation_opens_from_the_details_page(server, page):
    from tests.browser.test_channels_browser import post_events

    post_events(
        server, {"type": "webchat", "contact_id": "talker-1", "name": "Tara Talker", "text": "Where is my order?"}
    )
    page.goto(server.url + "/contact?id=talker-1")
    wait_for_app(page)
    page.get_by_text("1 conversation", exact=True).wait_for()
    grid = page.locator(".st-key-conversations-talker-1 [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # the first conversation's selection checkbox
    wait_for_app(page)
    opened = page.locator(".st-key-conversation-open")
    opened.get_by_text("webchat on web").wait_for()
    opened.get_by_text("· 1 message ·").wait_for()  # its times, count and status
    opened.get_by_text("Where is my order?", exact=True).wait_for()  # and its message, with its channel and time
    expect(opened.get_by_text("Tara Talker · web · 2026-11-25 09:00:00")).to_be_visible()


def test_an_opened_conversation_shows_its_messages_in_order_as_text(server, page):
    from tests.browser.test_channels_browser import post_events

    post_events(
        server,
        {"type": "webchat", "contact_id": "talker-2", "text": "<b>bold?</b> **no**", "at": "2026-11-25T10:02:00Z"},
        {
            "type": "webchat",
            "contact_id": "talker-2",
            "text": "First",
            "at": "2026-11-25T10:00:00Z",
            "name": "*Bo* <i>Li</i>",
        },
        {"type": "webchat", "contact_id": "talker-2", "browser": "Firefox", "at": "2026-11-25T10:03:00Z"},
    )
    page.goto(server.url + "/contact?id=talker-2")
    wait_for_app(page)
    grid = page.locator(".st-key-conversations-talker-2 [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    wait_for_app(page)
    messages = page.locator(".st-key-conversation-messages [data-testid='stChatMessage']")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("First")
    expect(messages.nth(0)).to_contain_text("*Bo* <i>Li</i> · web · 2026-11-25 10:00:00")  # the name as typed too
    expect(messages.nth(1)).to_contain_text("<b>bold?</b> **no**")  # typed markup shown as typed
    expect(page.locator(".st-key-conversation-messages b, .st-key-conversation-messages i")).to_have_count(0)
    page.get_by_text("2 of its 3 messages carried a text kept here.").wait_for()


def test_a_search_then_a_page_forward_rerun_the_list_alone_and_keep_the_url(server, page):
    """The search box, table and pager are a fragment (pages/contacts.py): typing and paging rerun only it."""
    page.goto(server.url + "/contacts")
    wait_for_app(page)
    page.get_by_placeholder(SEARCH_BOX).fill("sample")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text(re.compile(r"contacts · page 1 of 2")).wait_for()
    assert "q=sample" in page.url and "page=1" in page.url
    page.get_by_role("button", name="Next").click()
    wait_for_app(page)
    page.get_by_text(re.compile(r"contacts · page 2 of 2")).wait_for()
    assert "q=sample" in page.url and "page=2" in page.url
    expect(page.get_by_placeholder(SEARCH_BOX)).to_have_value("sample")  # the search stays in its box
    page.get_by_placeholder(SEARCH_BOX).fill("sample5")  # a new search starts from the first page
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text("11 contacts · page 1 of 1").wait_for()
    grid_cell(page, "person55@example.com").wait_for(state="attached")
    assert "q=sample5" in page.url and "page=1" in page.url
    page.reload()  # the URL holds the view: a reload opens the same one
    wait_for_app(page)
    page.get_by_text("11 contacts · page 1 of 1").wait_for()
    expect(page.get_by_placeholder(SEARCH_BOX)).to_have_value("sample5")


def test_a_search_sent_as_the_browser_sends_it_redraws_the_list_fragment_alone(server, page):
    """Over the websocket (bench/load.py's client, with this browser's session cookie): a full run of the list draws
    the whole page; typing a search then reruns only the list's fragment, so app.py, the bar and the filter stay."""
    from bench.load import Tab

    cookie = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "contacts_session")

    async def full_then_search() -> tuple[list[ForwardMsg], list[ForwardMsg] | None, Tab]:
        tab = Tab(server.port, cookie)
        await tab.open()
        try:
            return await tab.run("contacts", {}), await tab.use_widget("Search", "sample"), tab
        finally:
            await tab.socket.close()

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        full, searched, tab = thread.submit(asyncio.run, full_then_search()).result()
    assert searched is not None
    fragment = tab.widgets["Search"][1]

    def deltas(messages: list[ForwardMsg]) -> list[object]:
        return [message.delta for message in messages if message.WhichOneof("type") == "delta"]

    assert fragment and any(not delta.fragment_id for delta in deltas(full))  # the page outside the fragment
    assert {delta.fragment_id for delta in deltas(searched)} == {fragment}
    assert searched[-1].script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    captions = [
        delta.new_element.markdown.body for delta in deltas(searched) if delta.WhichOneof("type") == "new_element"
    ]
    assert any("contacts · page 1 of 2" in caption for caption in captions)
    assert "q=sample" in tab.query


def test_a_search_after_signing_out_in_another_tab_asks_to_sign_in(server, page):
    """A rerun of the list's fragment alone skips app.py's gate: it checks the session itself (ui/login.py)."""
    page.goto(server.url + "/contacts")
    wait_for_app(page)
    other = page.context.new_page()
    other.goto(server.url + "/contacts")
    wait_for_app(other)
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url(server.url + "/api/login")
    page.get_by_placeholder(SEARCH_BOX).fill("grace")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/api/login"))  # the whole app reran, and its gate sent the browser to sign in
