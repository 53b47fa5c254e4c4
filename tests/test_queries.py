"""List views: segments, sorting with NULLS LAST, server-side pagination and chosen columns."""

from datetime import datetime, timedelta
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import write_values
from core.db import open_database
from core.errors import ContactsError
from core.views import queries
from core.views.queries import ListView, count_view, list_contacts, view_contact_ids
from core.views.search_index import rebuild_search_index
from core.workspace import add_owner, define_custom_field

START = datetime(2024, 1, 1, 9, 0)
FIRST_NAMES = [
    "Ada",
    "Bea",
    "Cal",
    "Dee",
    None,
    "Eve",
    "Fay",
    "Gus",
    "Hal",
    "Ivy",
    None,
    "Jon",
    "Kit",
    "Lou",
    "Max",
    "Ned",
    "Oda",
    "Pia",
    "Quy",
    None,
    "Rex",
    "Sol",
    "Tom",
    "Uma",
    "Val",
]
OWNERS = ["alice", "bob", None]


def _owner(index: int) -> str | None:
    return OWNERS[index % 3]


def _blocked(index: int) -> bool:
    return index in (3, 7)


@pytest.fixture(scope="module")
def listing():
    """25 contacts c01..c25: owners cycle alice, bob, none; c04 and c08 are blocked; some names missing."""
    con = open_database()
    bootstrap_admin(con)
    add_owner(con, "alice", "Alice", actor="admin")
    add_owner(con, "bob", "Bob", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    define_custom_field(con, "member_no", "Member number", "text", actor="admin")
    for index, first_name in enumerate(FIRST_NAMES):
        contact_id = f"c{index + 1:02d}"
        con.execute(
            "INSERT INTO contacts (contact_id, first_name, email, owner_id, last_updated, created_on, blocked) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                contact_id,
                first_name,
                f"{contact_id}@example.com",
                _owner(index),
                START + timedelta(hours=index),
                START - timedelta(days=index % 5),
                _blocked(index),
            ],
        )
    for contact_id, values in {"c01": {"plan": "Pro", "member_no": "M-1"}, "c02": {"plan": "Free"}}.items():
        write_values(con, contact_id, values)
    write_values(con, "c03", {"member_no": "M-3"})
    rebuild_search_index(con)  # written past the write paths that keep the search index
    yield con
    con.close()


def ids(page) -> list[str]:
    return page.rows["contact_id"].to_list()


VISIBLE = [f"c{i + 1:02d}" for i in range(25) if not _blocked(i)]


# --- pagination --------------------------------------------------------------------------------


def test_default_view_is_the_first_page_of_all_unblocked_contacts_newest_first(listing):
    page = list_contacts(listing, ListView(), "alice")
    assert (page.total, page.page, page.page_size, page.page_count) == (23, 1, 50, 1)
    assert ids(page) == sorted(VISIBLE, reverse=True)
    assert page.rows.columns == [
        "contact_id",
        "version",
        "first_name",
        "last_name",
        "email",
        "phone",
        "lead_stage",
        "owner_id",
        "tags",
        "last_updated",
    ]


@pytest.mark.parametrize(
    ("page_number", "page_size", "shown_page", "expected"),
    [
        (1, 10, 1, VISIBLE[:10]),
        (2, 10, 2, VISIBLE[10:20]),
        (3, 10, 3, VISIBLE[20:]),
        (4, 10, 3, VISIBLE[20:]),
        (99, 10, 3, VISIBLE[20:]),
        (2, 23, 1, VISIBLE),
        (5, 5, 5, VISIBLE[20:]),
        (1, 1, 1, VISIBLE[:1]),
    ],
)
def test_pages_hold_page_size_rows_and_clamp_to_the_last(listing, page_number, page_size, shown_page, expected):
    view = ListView(sort="contact_id", descending=False, page=page_number, page_size=page_size)
    page = list_contacts(listing, view, "alice")
    assert (page.total, page.page, page.page_size) == (23, shown_page, page_size)
    assert page.page_count == -(-23 // page_size)
    assert ids(page) == expected


def test_the_pages_together_hold_every_contact_once(listing):
    seen = []
    for number in range(1, 5):
        seen += ids(list_contacts(listing, ListView(sort="first_name", page=number, page_size=7), "alice"))
    assert sorted(seen) == sorted(VISIBLE)


def test_an_empty_view_is_one_empty_page(listing):
    page = list_contacts(listing, ListView(search="nobody-at-all", page=3), "alice")
    assert (page.total, page.page, page.page_count, page.rows.height) == (0, 1, 1, 0)


# --- sorting -----------------------------------------------------------------------------------


def _named(descending: bool) -> list[str]:
    named = [(name, f"c{i + 1:02d}") for i, name in enumerate(FIRST_NAMES) if name and not _blocked(i)]
    return [contact_id for _, contact_id in sorted(named, reverse=descending)]


UNNAMED = ["c05", "c11", "c20"]


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_first_name_puts_blanks_last_either_way(listing, descending):
    page = list_contacts(listing, ListView(sort="first_name", descending=descending), "alice")
    assert ids(page) == _named(descending) + UNNAMED


@pytest.mark.parametrize("descending", [False, True])
def test_blanks_stay_last_across_page_boundaries(listing, descending):
    last_page = list_contacts(
        listing, ListView(sort="first_name", descending=descending, page=3, page_size=10), "alice"
    )
    assert ids(last_page)[-3:] == UNNAMED
    assert last_page.rows["first_name"].to_list()[-3:] == [None, None, None]


@pytest.mark.parametrize(
    ("sort", "descending", "expected_first", "expected_last"),
    [
        ("last_updated", True, "c25", "c01"),
        ("last_updated", False, "c01", "c25"),
        ("email", False, "c01", "c25"),
        ("email", True, "c25", "c01"),
        ("contact_id", True, "c25", "c01"),
    ],
)
def test_sorting_on_other_fields(listing, sort, descending, expected_first, expected_last):
    found = ids(list_contacts(listing, ListView(sort=sort, descending=descending), "alice"))
    assert (found[0], found[-1]) == (expected_first, expected_last)


def test_ties_are_broken_by_contact_id(listing):
    found = ids(list_contacts(listing, ListView(sort="created_on", descending=True), "alice"))
    # created_on cycles over 5 days: the newest day holds c01, c06, c11, c16, c21.
    assert found[:5] == ["c01", "c06", "c11", "c16", "c21"]


@pytest.mark.parametrize("sort", ["tags", "nope", "first_name; DROP TABLE contacts", "custom.plan", ""])
def test_invalid_sort_keys_are_rejected_by_the_view(sort):
    with pytest.raises(ValidationError):
        ListView(sort=sort)


@pytest.mark.parametrize("bad", [{"page": 0}, {"page_size": 0}, {"page_size": 501}, {"page": -1}])
def test_invalid_page_numbers_are_rejected_by_the_view(bad):
    with pytest.raises(ValidationError):
        ListView(**bad)


# --- segments ----------------------------------------------------------------------------------


def _where(owner: str | None) -> list[str]:
    return [f"c{i + 1:02d}" for i in range(25) if _owner(i) == owner and not _blocked(i)]


@pytest.mark.parametrize(
    ("segment", "user", "expected"),
    [
        ("all", "alice", VISIBLE),
        ("All contacts", "alice", VISIBLE),
        ("mine", "alice", _where("alice")),
        ("My contacts", "bob", _where("bob")),
        ("mine", "carol", []),
        ("unassigned", "alice", _where(None)),
        ("blocked", "alice", ["c04", "c08"]),
        ("Blocked", "bob", ["c04", "c08"]),
    ],
)
def test_system_segments(listing, segment, user, expected):
    view = ListView(segment=segment, sort="contact_id", descending=False)
    page = list_contacts(listing, view, user)
    assert ids(page) == expected
    assert page.total == count_view(listing, view, user) == len(expected)
    assert sorted(view_contact_ids(listing, view, user)) == expected


def test_blocked_contacts_leave_every_other_segment(listing):
    # c04 is owned by alice and c08 by bob, yet neither is in their owner's segment.
    for segment, user in [("all", "alice"), ("mine", "alice"), ("mine", "bob"), ("unassigned", "alice")]:
        found = view_contact_ids(listing, ListView(segment=segment), user)
        assert not {"c04", "c08"} & set(found), segment


def test_an_unknown_segment_is_refused(listing):
    with pytest.raises(ContactsError) as raised:
        list_contacts(listing, ListView(segment="VIPs"), "alice")
    assert raised.value.field == "segment"


def test_search_within_a_segment(listing):
    page = list_contacts(listing, ListView(segment="mine", search="c1"), "alice")
    assert sorted(ids(page)) == ["c10", "c13", "c16", "c19"]
    assert page.total == 4


# --- columns -----------------------------------------------------------------------------------


def test_custom_columns_appear_with_their_values(listing):
    view = ListView(
        columns=["first_name", "custom.plan", "custom.member_no"], sort="contact_id", descending=False, page_size=4
    )
    page = list_contacts(listing, view, "alice")
    assert page.rows.columns == ["contact_id", "version", "first_name", "custom.plan", "custom.member_no"]
    assert page.rows.rows() == [
        ("c01", 1, "Ada", "Pro", "M-1"),
        ("c02", 1, "Bea", "Free", None),
        ("c03", 1, "Cal", None, "M-3"),
        ("c05", 1, None, None, None),
    ]


def test_columns_keep_their_order(listing):
    page = list_contacts(listing, ListView(columns=["email", "custom.plan", "owner_id"], page_size=1), "alice")
    assert page.rows.columns == ["contact_id", "version", "email", "custom.plan", "owner_id"]


@pytest.mark.parametrize(
    "column", ["nope", "custom.nope", "custom.", "plan", "custom.plan'; DROP TABLE contacts; --", "email, version"]
)
def test_an_unknown_column_is_refused(listing, column):
    with pytest.raises(ContactsError) as raised:
        list_contacts(listing, ListView(columns=["first_name", column]), "alice")
    assert raised.value.field == "columns"
    assert count_view(listing, ListView(), "alice") == 23


def test_sorting_by_contact_id_pages_through_every_contact_once(fresh_db):
    from core.contacts.models import ContactInput
    from core.contacts.records import create_contact
    from core.views.queries import ListView, list_contacts

    for index in range(7):
        create_contact(fresh_db, ContactInput(contact_id=f"id{index}"), "admin")
    pages = [
        list_contacts(fresh_db, ListView(sort="contact_id", descending=False, page=number, page_size=3), "admin")
        for number in (1, 2, 3, 9)
    ]
    assert [page.rows["contact_id"].to_list() for page in pages] == [
        ["id0", "id1", "id2"],
        ["id3", "id4", "id5"],
        ["id6"],
        ["id6"],
    ]
    assert [page.page for page in pages] == [1, 2, 3, 3] and pages[0].total == 7


# --- property: a page is the slice of the whole view sorted in Python (ties, blanks, close spellings) ----------

_sort_values = st.sampled_from([None, "Ann", "ann", "Bo", "Smith", "Smyth"])


@pytest.fixture(scope="module")
def paging_db():
    con = open_database()
    bootstrap_admin(con)
    yield con
    con.close()


@given(
    contacts=st.lists(st.tuples(_sort_values, _sort_values, st.booleans()), min_size=1, max_size=12),
    sort=st.sampled_from(["first_name", "last_name", "contact_id"]),
    descending=st.booleans(),
    page_size=st.integers(1, 5),
    page=st.integers(1, 5),
    search=st.sampled_from(["", "smith", "ann"]),
)
@settings(max_examples=80, deadline=None)
def test_a_page_is_the_slice_of_the_sorted_view(paging_db, contacts, sort, descending, page_size, page, search):
    con = paging_db
    con.execute("DELETE FROM contacts")
    con.executemany(
        "INSERT INTO contacts (contact_id, first_name, last_name, blocked) VALUES (?, ?, ?, ?)",
        [[f"c{index:02d}", first, last, blocked] for index, (first, last, blocked) in enumerate(contacts)],
    )
    rebuild_search_index(con)
    view = ListView(search=search, sort=sort, descending=descending, page=page, page_size=page_size)
    shown = list_contacts(con, view, "admin")
    exact = {
        f"c{index:02d}": 0 if not search or any(search in (v or "").lower() for v in (first, last)) else 1
        for index, (first, last, blocked) in enumerate(contacts)
        if not blocked
    }
    found = set(view_contact_ids(con, view, "admin"))  # exact, partial and close spellings
    values = {
        f"c{index:02d}": {"first_name": first, "last_name": last} for index, (first, last, _) in enumerate(contacts)
    }

    def key(contact_id: str) -> tuple:
        value = contact_id if sort == "contact_id" else values[contact_id][sort]
        # NULLS LAST either way; ties by contact_id ascending
        return (
            exact[contact_id],
            value is None,
            value if value is None or not descending else _Desc(value),
            contact_id,
        )

    ordered = sorted(found, key=key)
    last_page = max(1, -(-len(ordered) // page_size))
    expected_page = min(page, last_page)
    start = (expected_page - 1) * page_size
    assert shown.total == len(ordered)
    assert shown.page == expected_page
    assert shown.rows["contact_id"].to_list() == ordered[start : start + page_size]
    with patch.object(queries, "NTH_IN_ORDER_FROM", 0):  # the page's last row found by a heap instead of a sort
        sorted_page = list_contacts(con, view, "admin")
    assert (sorted_page.total, sorted_page.rows["contact_id"].to_list()) == (
        shown.total,
        ordered[start : start + page_size],
    )


class _Desc:
    """A value that sorts in reverse."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: "_Desc") -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value


def test_a_search_is_found_again_after_every_write(tmp_path, add_contact):
    """list_contacts keeps a search's conditions per database file until the next write (core.stamps)."""
    from core.contacts.records import update_contact
    from core.views import queries

    con = open_database(tmp_path / "contacts.duckdb")
    bootstrap_admin(con)
    try:
        add_contact(con, "ann", first_name="Ann", last_name="Smith")
        view = ListView(search="smith")
        assert list_contacts(con, view, "admin").total == 1
        kept = queries._kept_search_sql(con, "smith")
        assert queries._kept_search_sql(con, "smith") is kept  # no write since: the same conditions
        assert list_contacts(con, view.model_copy(update={"page": 2}), "admin").total == 1
        bob = add_contact(con, "bob", first_name="Bob", last_name="Smithers")
        assert list_contacts(con, view, "admin").total == 2
        update_contact(con, "bob", {"last_name": "Stone"}, bob.version, "admin")
        assert list_contacts(con, view, "admin").rows["contact_id"].to_list() == ["ann"]
        assert list_contacts(con, ListView(search="stone"), "admin").rows["contact_id"].to_list() == ["bob"]
    finally:
        con.close()
