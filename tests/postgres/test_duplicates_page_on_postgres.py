"""The Duplicates page on PostgreSQL (CONTACTS_DB=postgresql://...): its first visit finds the groups (detection
over Arrow extracts in the app process, core.db.extract) and lists them."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db import open_database
from core.duplicates import last_run
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.conftest import serve_app_from

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture
def duplicates_on_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from serve_app_from(
        pg_url,
        monkeypatch,
        [
            ("Grace", "Hopper", "grace@navy.example"),
            ("Grace", "Hopper", "GRACE@Navy.example"),
            ("Alan", "Turing", "alan@bletchley.example"),
        ],
    )


def test_the_first_visit_finds_and_lists_the_groups(duplicates_on_postgres):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_as(app, "admin")
    app.run()
    app.switch_page("pages/duplicates.py")
    app.run()
    assert not app.exception
    assert "Last looked for duplicates" in app.caption[0].value
    assert sorted(app.dataframe[0].value["members"]) == ["Grace Hopper, Grace Hopper"]
    con = open_database(duplicates_on_postgres)
    run = last_run(con)
    con.close()
    assert run is not None and run.contacts == 3 and run.exact_pairs == 1
