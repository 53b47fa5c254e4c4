"""The app on PostgreSQL (CONTACTS_DB=postgresql://...): the contacts list served under AppTest, a search through
the search index, and the ingest token kept for a URL (not beside a file that does not exist)."""

from collections.abc import Iterator
from pathlib import Path

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
