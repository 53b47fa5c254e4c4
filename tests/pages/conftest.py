"""Page tests: the whole app (app.py) under Streamlit's AppTest, on a small file database."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from core.accounts.users import bootstrap_admin
from core.contacts.models import Contact, ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from core.workspace import add_owner, define_custom_field

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def navigation_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every AppTest run through app.py's st.navigation, as the server does (ui/shell.py).

    AppTest forgets the navigation mode before each run and, seeing a pages/ folder, would start the
    run in Streamlit's old file-based navigation: the page alone, without the shell. The server pins
    the new navigation once, before any session; this does the same for each run.
    """
    original = PagesManager.__init__

    def pinned(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", pinned)


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Contact]]:
    """A database with a few contacts, selected by CONTACTS_DB; yields the contacts by first name."""
    path = tmp_path / "pages.duckdb"
    con = open_database(path)
    bootstrap_admin(con)
    add_owner(con, "maria", "Maria Lopez", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", options=["Free", "Pro"], actor="admin")
    made = {}
    for first, email, owner, plan in [
        ("Grace", "grace@navy.example", "admin", "Pro"),
        ("Alan", "alan@bletchley.example", None, "Free"),
        ("Ada", "ada@engine.example", "maria", None),
    ]:
        made[first] = create_contact(
            con,
            ContactInput(first_name=first, email=email, owner_id=owner, custom={"plan": plan} if plan else {}),
            "admin",
        )
    con.close()
    monkeypatch.setenv("CONTACTS_DB", str(path))
    monkeypatch.setenv("CONTACTS_USER", "admin")
    yield made
    # The app caches its connection per path; clear it so the next test opens its own file.
    from ui.session import _connection

    _connection.clear()


def sign_in_as(app: AppTest, user_id: str) -> None:
    """Sign an AppTest session in as a user (a session opened in core, as the sign-in form does)."""
    from core.accounts.sessions import start_session
    from ui.session import db

    app.session_state["session_token"] = start_session(db(), user_id)


@pytest.fixture
def open_page(app_db: dict[str, Contact]) -> Callable[..., AppTest]:
    """Run app.py, switch to a page with the given query parameters, and return the AppTest."""

    def run(page: str, **query: str) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))  # tests pick the user by the old variable
        app.run()
        app.switch_page(page)
        for key, value in query.items():
            app.query_params[key] = value
        return app.run()

    return run


def open_as_agent(path: str, title: str, user: str = "maria") -> AppTest:
    """Run the app as an agent and open an admin page by its address: the menu lacks it, the page refuses."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, user)
    app.run()
    # AppTest.switch_page matches script files only; the refusal is a callable page at the admin page's address.
    app._page_hash = next(h for h, info in app._registered_pages.items() if info.get("url_pathname") == path)
    app.run()
    assert [e.value for e in app.error] == [f"Only admins can use {title}."]
    return app
