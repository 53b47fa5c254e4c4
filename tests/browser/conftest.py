"""Real-browser tests: `streamlit run` on a free localhost port, driven by Playwright in Debian's Chromium."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from core.workspace import add_owner, define_custom_field

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CONTACTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCRIPT_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    """Skip on a developer machine without Chromium; in CI a missing browser is a failure."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CONTACTS_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_database(path: Path) -> None:
    """A small database with contacts the browser tests look for."""
    con = open_database(path)
    add_owner(con, "admin", "Admin", role="admin")
    add_owner(con, "maria", "Maria Lopez")
    define_custom_field(con, "customer_number", "Customer number", "text", is_identity=True)
    people = [
        ("Grace", "Hopper", "grace@navy.example", "+1 415 555 0101", "maria"),
        ("Alan", "Turing", "alan@bletchley.example", "+44 20 7946 0958", None),
        ("<script>alert(1)</script>", "Mallory", "mallory@evil.example", None, None),
    ] + [(f"Person{i}", f"Sample{i}", f"person{i}@example.com", None, None) for i in range(60)]
    for first, last, email, phone, owner in people:
        create_contact(
            con, ContactInput(first_name=first, last_name=last, email=email, phone=phone, owner_id=owner), "admin"
        )
    con.close()


class StreamlitServer:
    """`streamlit run server.py` (app and ingest endpoint; or another script) in a subprocess, on its own database."""

    def __init__(self, database: Path, script: str = "server.py", cwd: Path = ROOT) -> None:
        self.database = database
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.token = "browser-test-token"
        env = {
            **os.environ,
            "CONTACTS_DB": str(database),
            "CONTACTS_USER": "admin",
            "CONTACTS_INGEST_TOKEN": self.token,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.port",
                str(self.port),
                "--server.address",
                "localhost",
                "--server.headless",
                "true",
            ],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.process.stdout.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    _require_browser()
    database = tmp_path_factory.mktemp("browser") / "contacts.duckdb"
    seed_database(database)
    running = StreamlitServer(database)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def wait_for_app(page: object) -> None:
    """Wait until Streamlit has finished running the page script."""
    page.wait_for_timeout(300)
    page.wait_for_selector(SCRIPT_DONE, timeout=30_000)


def pick_option(page: object, box: object, option: str, typed: str = "") -> None:
    """Open a Streamlit select box and click one option; reopen it when a rerun closed the list first."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):
        box.click()
        if typed:
            page.keyboard.type(typed)
        try:
            wanted.wait_for(state="visible", timeout=5_000)
            break
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_for_app(page)
    wanted.click()
    wait_for_app(page)
