"""The app on PostgreSQL (CONTACTS_DB=postgresql://...): the contacts list served under AppTest, a search through
the search index, and the ingest token kept for a URL (not beside a file that does not exist)."""

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from core import config
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.conftest import serve_app_from

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_on_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from serve_app_from(
        pg_url,
        monkeypatch,
        [
            ("Grace", "Hopper", "grace@navy.example"),
            ("Alan", "Turing", "alan@bletchley.example"),
            ("Zoë", "Ng", "zoe@example.org"),
        ],
    )


def _contacts_page(query: dict[str, str]) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, "admin")
    app.run()
    app.switch_page("pages/contacts.py")
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


@pytest.mark.postgres
def test_the_contacts_list_is_served_from_postgres(app_on_postgres):
    app = _contacts_page({})
    assert not app.exception
    caption = next(caption.value for caption in app.caption if " · page " in caption.value)
    assert caption.startswith("3 contacts · page 1 of 1")
    assert sorted(app.dataframe[0].value["email"].tolist()) == [
        "alan@bletchley.example",
        "grace@navy.example",
        "zoe@example.org",
    ]
    app.text_input[0].input("ZOË").run()  # through the search index, a Unicode letter lower-cased
    assert not app.exception
    assert app.dataframe[0].value["email"].tolist() == ["zoe@example.org"]
    from ui.session import db

    assert db().dialect_name == "postgres"  # the URL reached the connection whole


def test_the_ingest_token_for_a_url_is_kept_under_data_by_database_name(monkeypatch):
    monkeypatch.setenv("CONTACTS_DB", "postgresql://app:secret@db.example:5432/contacts?sslmode=require")
    assert config.ingest_token_path() == config.DEFAULT_DB_PATH.parent / "contacts.postgres.ingest-token"
    monkeypatch.setenv("CONTACTS_DB", "postgresql://app@db.example/..%2F..%2Fetc%2Fpasswd")
    kept = config.ingest_token_path()
    assert kept.parent == config.DEFAULT_DB_PATH.parent and "/" not in kept.name
    monkeypatch.setenv("CONTACTS_DB", str(Path("/tmp/some.duckdb")))
    assert config.ingest_token_path() == Path("/tmp/some.duckdb.ingest-token")


@pytest.mark.postgres
def test_a_page_waiting_for_a_large_imports_lock_says_so_and_comes_back(app_on_postgres):
    """A first large import locks contacts until its commit (core.db.bulk): a page of another session waits its
    2 s lock timeout, then says the contacts are busy (no traceback), and its button reruns it once they are free."""
    holder = psycopg.connect(app_on_postgres)  # not autocommit: the lock is held until the rollback
    (contact_id,) = holder.execute("SELECT contact_id FROM contacts LIMIT 1").fetchone() or ("",)
    holder.rollback()
    try:
        holder.execute("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")
        app = _contacts_page({})
        assert not app.exception
        assert [warning.value for warning in app.warning if "busy" in warning.value]
        assert not app.dataframe
        details = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)  # a page without fragments
        sign_in_as(details, "admin")
        details.switch_page("pages/contact.py")
        details.query_params["id"] = contact_id
        details.run()
        assert not details.exception
        assert [warning.value for warning in details.warning if "busy" in warning.value]
    finally:
        holder.rollback()
        holder.close()
    next(button for button in app.button if button.label == "Try again").click().run()
    assert not app.exception and not app.warning
    assert sorted(app.dataframe[0].value["email"].tolist()) == [
        "alan@bletchley.example",
        "grace@navy.example",
        "zoe@example.org",
    ]
