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

from core.accounts.users import create_first_admin, reset_password
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
# Passwords of the seeded users (tests sign in through the real form: see `sign_in`).
PASSWORDS = {"admin": "admin-test-password", "maria": "maria-test-password"}
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
    create_first_admin(con, "admin", "Admin", PASSWORDS["admin"])
    add_owner(con, "maria", "Maria Lopez", actor="admin")
    reset_password(con, "maria", PASSWORDS["maria"], actor="admin")
    define_custom_field(con, "customer_number", "Customer number", "text", is_identity=True, actor="admin")
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
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as the pages' own waits (20 s): Playwright's 5 s failed a reload on a busy machine.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def sign_in(page: object, server: StreamlitServer, user: str = "admin", password: str | None = None) -> None:
    """Sign a browser context in through the real form (POST /api/login); its cookie then holds the session
    for every later `page.goto` in that context."""
    page.goto(f"{server.url}/api/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password or PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/", timeout=20_000)
    wait_for_app(page)


@pytest.fixture
def anonymous_page(browser: object) -> Iterator[object]:
    """A fresh browser context that has not signed in."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


@pytest.fixture
def page(anonymous_page: object, server: StreamlitServer) -> object:
    """A fresh browser context signed in as the seeded admin (a test module's `server` fixture decides the server)."""
    sign_in(anonymous_page, server)
    return anonymous_page


def wait_for_app(page: object) -> None:
    """Wait until Streamlit has finished running the page script."""
    page.wait_for_timeout(300)
    page.wait_for_selector(SCRIPT_DONE, timeout=30_000)


def pick_option(page: object, box: object, option: str, typed: str = "") -> None:
    """Open a Streamlit select box and click one option; reopen it when a rerun closed the list first.

    A rerun can close the list between the option showing and the click, so the click itself is retried.
    """
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(4):
        wait_for_app(page)
        box.click()
        if typed:
            page.keyboard.type(typed)
        try:
            wanted.click(timeout=5_000)
            break
        except Exception:
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
    wait_for_app(page)
