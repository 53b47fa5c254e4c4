"""Importing in a real browser: upload a CSV, re-map a column, dry run, commit, find the contact, get the problems."""

from pathlib import Path

from tests.browser.conftest import pick_option, wait_for_app
from tests.browser.test_contacts_browser import grid_cell, search

CSV = (
    "E-mail,Given name,Surname,Hobby\n"
    "zora.importer@example.com,Zora,Importer,first\n"
    "not-an-email,,,second\n"
    "yuri.importer@example.com,Yuri,Importer,third\n"
)


def choose(page: object, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label, typing to filter its long (virtualised) list."""
    pick_option(page, page.get_by_label(label, exact=True), option, typed=option[:12])


def test_upload_map_dry_run_commit_and_download_rejects(server, page, tmp_path: Path):
    upload = tmp_path / "people.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.goto(server.url + "/import")
    wait_for_app(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
    page.get_by_text("people.csv: 3 rows, 4 columns").wait_for()
    wait_for_app(page)

    choose(page, "Hobby", "New custom field (text)")  # the one column the automatic mapping ignores
    page.get_by_role("button", name="Dry run").click()
    wait_for_app(page)
    created = page.locator("[data-testid='stMetric']").filter(has_text="Created")
    created.get_by_text("2", exact=True).wait_for()
    page.locator("[data-testid='stMetric']").filter(has_text="Rejected").get_by_text("1", exact=True).wait_for()

    page.get_by_text("Values left out or read differently (1)").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the problems (CSV)").click()
    problems = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
    assert problems[0] == "line,outcome,column,value,reason,action"
    assert problems[1].startswith('3,row rejected,,,"nothing identifies the row')
    assert problems[2].startswith("3,value warned,E-mail,not-an-email,")

    page.get_by_role("button", name="Import: create 2, update 0").click()
    wait_for_app(page)
    page.get_by_text("Imported: 2 created · 0 updated · 0 skipped · 1 rejected").wait_for()

    search(page, server.url, "zora.importer")
    grid_cell(page, "Zora").wait_for(state="attached")


def test_the_list_exports_its_current_view(server, page):
    page.goto(server.url + "/?q=hopper")
    wait_for_app(page)
    page.get_by_text("1 contact · page 1 of 1").wait_for()
    page.get_by_role("button", name="Export").click()
    page.get_by_role("button", name="Prepare 1 contact", exact=True).click()
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download contacts.csv").click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(exported) == 2 and "grace@navy.example" in exported[1]
    assert exported[0].startswith("Contact ID,")  # the labels the page shows
    assert ",+14155550101," in exported[1]  # a phone is data, not a formula: no apostrophe
