"""pages/ under st.navigation: the shell runs on every page, and a file app.py does not list is unreachable.

Each test serves a fresh copy of the real app (with one extra, unlisted file in pages/) and makes the
server's FIRST request itself: Streamlit 1.67 picks its old file-based navigation for a pages/ folder
until app.py has run once in the process (ui/shell.py), so only a first request shows the gap.
"""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, StreamlitServer, _require_browser, seed_database, wait_for_app

UNLISTED = """
import os
from pathlib import Path

import streamlit as st

Path(os.environ["UNLISTED_MARKER"]).write_text("ran")
st.markdown("UNLISTED PAGE RAN")
"""
LISTED_TITLES = ["Dashboard", "Contacts", "New contact", "Segments", "Duplicates", "Channels", "Import", "Settings"]
PROXY_HEADER = "X-Test-User"  # these servers trust it (CONTACTS_TRUSTED_USER_HEADER): no sign-in request comes first


@pytest.fixture
def fresh_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], StreamlitServer]]:
    """Start a copy of the app (with pages/unlisted.py added) under a given script; stop it afterwards."""
    _require_browser()
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    shutil.copy(ROOT / "server.py", tmp_path / "server.py")
    shutil.copytree(ROOT / "pages", tmp_path / "pages", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pages" / "unlisted.py").write_text(UNLISTED)
    for shared in ("core", "ui", ".streamlit"):
        (tmp_path / shared).symlink_to(ROOT / shared)
    monkeypatch.setenv("UNLISTED_MARKER", str(tmp_path / "unlisted-ran"))
    monkeypatch.setenv("CONTACTS_TRUSTED_USER_HEADER", PROXY_HEADER)
    database = tmp_path / "contacts.duckdb"
    seed_database(database)
    started: list[StreamlitServer] = []

    def start(script: str) -> StreamlitServer:
        started.append(StreamlitServer(database, script=script, cwd=tmp_path))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A browser whose every request names the admin in the proxy header these servers trust."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers={PROXY_HEADER: "admin"})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def nav_titles(page: object) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    return [text.strip().splitlines()[-1] for text in links.all_inner_texts()]  # the icon's name comes first


def test_an_unlisted_file_in_pages_cannot_be_reached(fresh_app, page, tmp_path):
    server = fresh_app("server.py")  # what `make run` serves
    page.goto(server.url + "/unlisted")  # the server's first request
    wait_for_app(page)
    assert not (tmp_path / "unlisted-ran").exists()
    assert page.get_by_text("UNLISTED PAGE RAN").count() == 0
    assert nav_titles(page) == LISTED_TITLES
    page.goto(server.url + "/unlisted")  # and later ones
    wait_for_app(page)
    assert not (tmp_path / "unlisted-ran").exists()


def test_the_shell_runs_on_every_listed_page(fresh_app, page, tmp_path):
    server = fresh_app("server.py")
    for path in ("/segments", "/", "/duplicates", "/import"):
        page.goto(server.url + path)
        wait_for_app(page)
        assert nav_titles(page) == LISTED_TITLES  # st.navigation's menu: drawn by app.py, not by the folder


def test_a_listed_page_asked_first_under_streamlit_run_goes_through_the_shell(fresh_app, page, tmp_path):
    server = fresh_app("app.py")  # plain `streamlit run app.py`: nothing ran before the first session
    page.goto(server.url + "/segments")
    wait_for_app(page)
    page.get_by_role("heading", name="Segments").wait_for()
    assert nav_titles(page) == LISTED_TITLES  # the page came through app.py, not alone
    page.goto(server.url + "/")
    wait_for_app(page)
    assert nav_titles(page) == LISTED_TITLES


def test_every_file_in_pages_is_listed_and_guarded():
    shell = (ROOT / "app.py").read_text()
    for path in (ROOT / "pages").glob("*.py"):
        assert f'"pages/{path.name}"' in shell, f"{path.name} is in pages/ but app.py does not list it"
        assert "\nrequire_shell()\n" in path.read_text(), f"{path.name} does not start with require_shell()"
