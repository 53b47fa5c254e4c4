"""Channel events posted to the running app, seen in a real browser: new contacts, blocking that holds."""

import json
import urllib.request

from tests.browser.conftest import wait_for_app
from tests.browser.test_contacts_browser import SEARCH_BOX, grid_cell


def post_events(server: object, *events: dict) -> dict:
    """POST events to the app's ingest endpoint; its report."""
    body = "\n".join(json.dumps({"at": "2026-11-25T09:00:00Z", **event}) for event in events).encode()
    request = urllib.request.Request(
        f"{server.url}/api/ingest", data=body, method="POST", headers={"Authorization": f"Bearer {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_posted_events_appear_in_the_contacts_list(server, page):
    report = post_events(
        server,
        {"type": "webchat", "contact_id": "browser-visitor-1", "name": "Zelda Visitorson", "text": "hello"},
        {"type": "inbox", "channel": "LINE", "social_id": "Uzelda-line-7", "text": "hi"},
    )
    assert report["created"] == 2
    page.goto(server.url + "/?q=Visitorson")
    wait_for_app(page)
    page.get_by_text("1 contact · page 1 of 1").wait_for()
    grid_cell(page, "Zelda").wait_for(state="attached")
    page.get_by_placeholder(SEARCH_BOX).fill("Uzelda-line-7")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_text("1 contact · page 1 of 1").wait_for()


def test_a_blocked_contacts_event_is_refused_counted_and_opens_no_conversation(server, page):
    post_events(server, {"type": "webchat", "contact_id": "browser-visitor-2", "name": "Ivo Blocked", "text": "hi"})
    page.goto(server.url + "/contact?id=browser-visitor-2")
    wait_for_app(page)
    page.get_by_text("1 conversation", exact=True).wait_for()
    page.get_by_role("button", name="Block contact").click()
    wait_for_app(page)
    page.get_by_text("chat and inbox events from this contact are refused").wait_for()

    later = {"type": "webchat", "contact_id": "browser-visitor-2", "text": "again", "at": "2026-11-27T09:00:00Z"}
    report = post_events(server, later)
    assert (report["refused_blocked"], report["conversations_opened"], report["updated"]) == (1, 0, 0)

    page.reload()
    wait_for_app(page)
    page.get_by_text("Refused while blocked: 1 event").wait_for()
    page.get_by_text("1 conversation", exact=True).wait_for()
    page.goto(server.url + "/channels")
    wait_for_app(page)
    page.get_by_role("heading", name="Recent ingest runs").wait_for()
    assert page.get_by_text("No events have been ingested yet.").count() == 0


def test_an_admin_uploads_a_file_of_events_on_the_channels_page(server, page, tmp_path):
    events = tmp_path / "upload.jsonl"
    lines = [
        json.dumps({"type": "inbox", "channel": "Telegram", "social_id": "tg-upload-1", "at": "2026-11-25T09:00:00Z"}),
        "{not json",
    ]
    events.write_text("\n".join(lines) + "\n")
    page.goto(server.url + "/channels")
    wait_for_app(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(events))
    page.get_by_text("upload.jsonl").wait_for()
    page.get_by_role("button", name="Ingest", exact=True).click()
    wait_for_app(page)
    page.get_by_text("1 created · 0 updated · 1 conversations opened · 0 refused (blocked) · 1 malformed").wait_for()
