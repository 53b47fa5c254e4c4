"""A search's pages read along the sort index (core.views.search Search.walk, core.views.queries
_page_ids_by_index): the same contacts in the same order, page by page, and the same total, as the search read
as a set; close spellings after the exact and partial matches across a page boundary; an estimated total."""

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest

from core.db.dialect import dialect
from core.views import queries, search
from core.views.queries import ListView, list_contacts
from core.workspace import define_custom_field

START = datetime(2024, 1, 1, 9, 0)
# (first name, last name, email, plan): names, emails and a custom word held by many, close spellings of 'smith'.
PEOPLE = [
    ("Ann", "Smith", "ann@gmail.com", "Pro"),
    ("Bo", "Smyth", "bo@example.org", "Pro"),
    ("Cy", "Smithson", "cy@gmail.com", None),
    ("Di", "Smit", "di@gmail.com", "Basic"),
    ("Ed", "Goldsmith", None, "Pro"),
    ("Flo", None, "flo.smith@gmail.com", None),
    ("Gil", "Smith", "gil@example.org", "Pro"),
    ("Hana", "Smyth", "hana@gmail.com", "Basic"),
    (None, "Jones", "pro@gmail.com", "Pro"),
    ("Ivo", "Smith", None, None),
    ("Jo", "Smithe", "jo@gmail.com", "Pro"),
    ("Kai", "Smith", "kai@example.org", "Pro"),
]
SEARCHES = ["smith", "gmail", "Pro", "smyth", "gmail.com", "Smith Ann", "zzzq"]
SORTS = [("last_updated", True), ("last_name", False), ("email", True)]  # two with an index on PostgreSQL, one not


@pytest.fixture
def people(fresh_db, add_contact):
    define_custom_field(fresh_db, "plan", "Plan", "text", actor="admin")
    for index, (first, last, email, plan) in enumerate(PEOPLE):
        # A few share an update time: ties are broken by contact_id.
        when = START + timedelta(hours=index // 2 * 2)
        fields: dict[str, Any] = {"first_name": first, "last_name": last, "email": email}
        custom = {"plan": plan} if plan else {}
        add_contact(fresh_db, f"p{index:02d}", stored=True, custom=custom, last_updated=when, created_on=when, **fields)
    return fresh_db


def _pages(con, query: str, sort: str, descending: bool, size: int) -> tuple[list[list[str]], list[int]]:
    """Every page of the view (and the one asked past its end: the last again), with the totals they showed."""
    pages, totals = [], []
    for page in range(1, 13):
        view = ListView(search=query, sort=sort, descending=descending, page=page, page_size=size)
        found = list_contacts(con, view, "admin")
        pages.append(found.rows["contact_id"].to_list())
        totals.append(found.total)
        if found.page < page:
            break
    return pages, totals


def test_a_walked_search_reads_the_same_pages_as_a_listed_one(people):
    """Every search, sort and page size: the pages read along the sort index testing one contact at a time (on
    DuckDB too, made to read pages as PostgreSQL does) equal those of the search read as a set."""
    store = type(dialect(people))
    for query in SEARCHES:
        for sort, descending in SORTS:
            for size in (2, 5):
                expected = _pages(people, query, sort, descending, size)
                with patch.object(store, "pages_by_index", True):
                    # Never walked: the matches are fewer than MANY_MATCHES.
                    assert _pages(people, query, sort, descending, size) == expected, (query, sort, size)
                    # Every search the index answers is walked: listed or read inside the statement.
                    with patch.object(search, "MANY_MATCHES", 0):
                        assert _pages(people, query, sort, descending, size) == expected, (query, sort, size)
                    with patch.object(search, "MANY_MATCHES", 0), patch.object(search, "MAX_MATCHES", 0):
                        assert _pages(people, query, sort, descending, size) == expected, (query, sort, size)


def test_close_spellings_follow_the_exact_matches_across_pages(people):
    """'smith': its exact and partial matches first (newest first), then the close spellings that are not among
    them (Smyth, Smit), whichever page the boundary falls on."""
    store = type(dialect(people))
    exact = ["p11", "p10", "p09", "p06", "p05", "p04", "p02", "p00"]  # newest first; p10, p11 tie: by contact_id
    exact = sorted(exact, key=lambda cid: (-(int(cid[1:]) // 2), cid))
    close = sorted(["p01", "p03", "p07"], key=lambda cid: (-(int(cid[1:]) // 2), cid))
    with patch.object(store, "pages_by_index", True), patch.object(search, "MANY_MATCHES", 0):
        for size in (1, 3, 7, 8, 9, 20):
            pages, totals = _pages(people, "smith", "last_updated", True, size)
            shown = [cid for page in pages[:-1] for cid in page]  # the last: asked past the end
            assert shown == exact + close, size
            assert set(totals) == {11}


@pytest.mark.parametrize("many", [False, True])
def test_a_large_total_is_estimated_from_a_sample_where_the_store_estimates(people, many):
    """Past EXACT_COUNT_UP_TO (SEARCH_EXACT_COUNT_UP_TO for a walked search) a search's total is a sample's count
    (here the whole table: exact) and says it is an estimate; a store that counts exactly (DuckDB) counts. `many`:
    the search index held too many to list."""
    limits = {"MANY_MATCHES": 0, "MAX_MATCHES": 0} if many else {"MANY_MATCHES": search.MANY_MATCHES}
    with (
        patch.object(queries, "EXACT_COUNT_UP_TO", 0),
        patch.object(queries, "SEARCH_EXACT_COUNT_UP_TO", 0),
        patch.object(queries, "SAMPLE_PERCENT", 100.0),
        patch.object(queries, "SEARCH_SAMPLE_PERCENT", 100.0),
        patch.multiple(search, **limits),
    ):
        found = list_contacts(people, ListView(search="gmail", page_size=2), "admin")
        smith = list_contacts(people, ListView(search="smith", page_size=2), "admin")
    estimates = dialect(people).estimated_rows_sql("SELECT 1") is not None
    assert (found.total, found.estimated, found.rows.height) == (7, estimates, 2)
    assert (smith.total, smith.estimated) == (11, estimates)  # 8 exact and partial, 3 close spellings
