"""The list page on PostgreSQL (Dialect.pages_by_index): a page read by ORDER BY ... LIMIT, and a total over
EXACT_COUNT_UP_TO given as an estimate, which the page says is one ("about 9,700,000")."""

from collections.abc import Iterator

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from core.views import queries
from core.views.queries import ListView, list_contacts, rounded_estimate
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.test_app_on_postgres import _contacts_page, app_on_postgres  # noqa: F401 - a fixture

pytestmark = pytest.mark.postgres
NAMES = ["Ng", "Adams", "Baker", "Young", "Cole"]


@pytest.fixture
def five(pg_url: str) -> Iterator:
    con = open_database(pg_url)
    bootstrap_admin(con)
    for i, last in enumerate(NAMES):
        create_contact(con, ContactInput(first_name="P", last_name=last, email=f"p{i}@example.org"), "admin")
    yield con
    con.close()


def test_pages_follow_the_sort_across_pages(five):
    seen = []
    for page in (1, 2, 3):
        found = list_contacts(five, ListView(sort="last_name", descending=False, page=page, page_size=2), "admin")
        assert (found.total, found.estimated) == (5, False)
        seen += found.rows["last_name"].to_list()
    assert seen == sorted(NAMES)
    past = list_contacts(five, ListView(sort="last_name", descending=False, page=9, page_size=2), "admin")
    assert (past.page, past.rows["last_name"].to_list()) == (3, ["Young"])


def test_a_total_over_the_threshold_is_an_estimate(five, monkeypatch):
    monkeypatch.setattr(queries, "EXACT_COUNT_UP_TO", 0)
    monkeypatch.setattr(queries, "SAMPLE_PERCENT", 100.0)  # the sample is the whole table: the estimate is exact
    found = list_contacts(five, ListView(page_size=2), "admin")
    assert (found.total, found.estimated, found.rows.height) == (5, True, 2)
    # A first page that is not full is the whole view: counted, whatever the threshold.
    assert list_contacts(five, ListView(page_size=10), "admin").estimated is False


def test_an_estimate_is_rounded_to_two_figures():
    assert [rounded_estimate(n) for n in (7, 99, 555_330, 9_701_370)] == [7, 99, 560_000, 9_700_000]


def test_the_page_says_a_total_is_an_estimate(app_on_postgres, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setattr(queries, "_view_total", lambda *args: (9_700_000, True))
    monkeypatch.setattr(queries, "EXACT_COUNT_UP_TO", 0)
    app = _contacts_page({})
    assert not app.exception
    caption = next(caption.value for caption in app.caption if " · page " in caption.value)
    assert caption.startswith("about 9,700,000 contacts · page 1 of about 194,000")


def test_bulk_actions_say_about_and_a_delete_counts_exactly_first(app_on_postgres, monkeypatch):  # noqa: F811
    monkeypatch.setattr(queries, "_view_total", lambda *args: (9_700_000, True))
    monkeypatch.setattr(queries, "EXACT_COUNT_UP_TO", 0)
    app = _contacts_page({})
    assert "Actions apply to about 9,700,000 contacts in this view." in [caption.value for caption in app.caption]
    # No count to type until the view is counted exactly: an estimate is no confirmation of a delete.
    assert not [box for box in app.text_input if box.key == "bulk-delete-typed"]
    next(button for button in app.button if button.key == "bulk-delete-count").click().run()
    assert not app.exception
    typed = next(box for box in app.text_input if box.key == "bulk-delete-typed")
    assert typed.label == "Type 3 to confirm"  # the three contacts app_on_postgres holds
