"""Quick search (spec feature 5): fuzzy on names, email and phone; whole word on custom fields."""

import string
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.contacts.records import set_blocked
from core.db import open_database, rows
from core.views import search as search_module
from core.views.queries import ListView, view_contact_ids
from core.views.search import escape_like, search_condition, whole_word_pattern
from core.views.search_index import rebuild_search_index
from core.workspace import define_custom_field


def search(con, query: str, segment: str = "all") -> set[str]:
    return set(view_contact_ids(con, ListView(segment=segment, search=query), "alice"))


def add_people(con, add_contact) -> None:
    """Contacts whose names, emails, phones and custom values the search tests look for."""

    define_custom_field(con, "member_no", "Member number", "text", actor="admin")
    define_custom_field(con, "score", "Score", "number", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro", "Enterprise"], actor="admin")
    define_custom_field(con, "vip", "VIP", "checkbox", actor="admin")
    define_custom_field(con, "renewal", "Renewal", "datetime", actor="admin")
    add_contact(
        con,
        "ada",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="(415) 555-0132",
        custom={"member_no": "Gold-Tier A17", "score": "42", "vip": "true", "renewal": "2024-05-01 14:30"},
    )
    add_contact(
        con,
        "grace",
        first_name="Grace",
        last_name="Hopper",
        email="grace.hopper@navy.mil",
        phone="+44 20 7946 0958",
        custom={"plan": "Enterprise", "member_no": "C++ (beta)"},
    )
    add_contact(con, "alan", first_name="Alan", last_name="Turing", email="alan@bletchley.uk")
    add_contact(con, "obrien", first_name="Conan", last_name="O'Brien", email="under_score@example.org")
    add_contact(con, "percent", first_name="Hundred", last_name="100%", email="pct@example.org")
    add_contact(con, "slash", first_name="Back\\slash", last_name="[Bracket]", email="slash@example.org")
    add_contact(
        con, "blocked", first_name="Ada", last_name="Blocked", email="ada.blocked@example.com", phone="4155550199"
    )
    set_blocked(con, ["blocked"], True, "admin")


@pytest.fixture(scope="module")
def people(add_contact):
    """One database for the module: searching never writes."""
    con = open_database()
    bootstrap_admin(con)
    add_people(con, add_contact)
    yield con
    con.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ada", {"ada"}),
        ("ADA", {"ada"}),
        ("  aDa  ", {"ada"}),
        ("love", {"ada"}),
        ("LOVELACE", {"ada"}),
        ("ace", {"ada", "grace"}),
        ("example.com", {"ada"}),
        ("@navy", {"grace"}),
        ("ada lovelace", {"ada"}),
        ("Ada   Lovelace", {"ada"}),
        ("a lov", {"ada"}),
        ("lovelace ada", {"ada"}),  # reversed: found by its words (tests/test_fuzzy_search.py)
        ("hopper", {"grace"}),
        ("nobody", set()),
    ],
)
def test_fuzzy_on_names_and_email(people, query, expected):
    assert search(people, query) == expected


def test_an_empty_search_is_the_whole_segment(people):
    assert search(people, "") == search(people, "   ") == {"ada", "grace", "alan", "obrien", "percent", "slash"}


@pytest.mark.parametrize(
    "query",
    [
        "415-555-0132",
        "(415) 5550132",
        "5550132",
        "+14155550132",
        "4155550132",
        "+1 415 555 0132",
        "1 415 555 0132",
        "555-0132",
        "415.555",
    ],
)
def test_a_phone_matches_whatever_its_formatting(people, query):
    assert search(people, query) == {"ada"}


@pytest.mark.parametrize("query", ["+44 20 7946 0958", "7946 0958", "+442079460958", "2079460958"])
def test_an_international_phone_matches(people, query):
    assert search(people, query) == {"grace"}


def test_a_national_number_matches_in_the_workspace_country(fresh_db, add_contact):
    add_people(fresh_db, add_contact)
    assert search(fresh_db, "020 7946 0958") == set()
    fresh_db.execute("UPDATE settings SET value = 'GB' WHERE key = 'default_country'")
    assert search(fresh_db, "020 7946 0958") == {"grace"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gold", {"ada"}),
        ("GOLD", {"ada"}),
        ("tier", {"ada"}),
        ("gold-tier", {"ada"}),
        ("a17", {"ada"}),
        ("Gold-Tier A17", {"ada"}),
        ("42", {"ada"}),
        ("enterprise", {"grace"}),
        ("ENTERPRISE", {"grace"}),
        ("c++", {"grace"}),
        ("(beta)", {"grace"}),
        ("beta", {"grace"}),
    ],
)
def test_custom_text_number_and_dropdown_match_whole_words(people, query, expected):
    assert search(people, query) == expected


@pytest.mark.parametrize("query", ["gol", "old", "ier", "a1", "4", "enter", "prise", "bet"])
def test_custom_fields_do_not_match_part_of_a_word(people, query):
    assert search(people, query) == set()


@pytest.mark.parametrize("query", ["true", "2024", "2024-05-01", "14:30", "2024-05-01 14:30:00"])
def test_checkbox_and_datetime_values_never_match(people, query):
    assert search(people, query) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("%", {"percent"}),
        ("100%", {"percent"}),
        ("_", {"obrien"}),
        ("d_r", set()),
        ("'", {"obrien"}),
        ("o'brien", {"obrien"}),
        ("\\", {"slash"}),
        ("k\\s", {"slash"}),
        ("[", {"slash"}),
        ("[bracket]", {"slash"}),
        ("(", set()),
        (")", set()),
        (".*", set()),
        ("a.a", set()),
        ("^ada", set()),
        ("ada$", set()),
        ("a|b", set()),
        ("\\d", set()),
        ("'; DROP TABLE contacts; --", set()),
        ('"', set()),
    ],
)
def test_wildcards_and_specials_in_the_query_are_literal(people, query, expected):
    assert search(people, query) == expected
    assert search(people, "") == {"ada", "grace", "alan", "obrien", "percent", "slash"}


def test_blocked_contacts_are_searched_only_in_the_blocked_segment(people):
    assert search(people, "ada") == {"ada"}
    assert search(people, "ada", "blocked") == {"blocked"}
    assert search(people, "4155550199") == set()
    assert search(people, "4155550199", "blocked") == {"blocked"}


def test_search_values_never_reach_the_sql_text():
    query = "O'Brien 100% (x)"
    sql, params = search_condition(query)
    assert "Brien" not in sql and "100" not in sql
    assert params["search_like"] == "%O'Brien 100\\% (x)%"
    assert search_condition("   ") == ("TRUE", {})


def test_escape_like_and_whole_word_pattern():
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    assert whole_word_pattern("c++") == r"(^|[^[:alnum:]_])(c\+\+)([^[:alnum:]_]|$)"


@given(query=st.text(max_size=12))
@settings(max_examples=40, deadline=None)
def test_any_query_runs_without_error(people, query):
    found = search(people, query)
    assert found <= {"ada", "grace", "alan", "obrien", "percent", "slash"}


# --- property: the SQL search agrees with the rule written in plain Python --------------------

_ALPHABET = string.ascii_letters + "0123" + ".-_%'\\@ "
_words = st.text(alphabet=_ALPHABET.replace(" ", ""), min_size=1, max_size=6)
_names = st.none() | st.lists(_words, min_size=1, max_size=2).map(" ".join)
_contacts = st.lists(st.tuples(_names, _names, _names), min_size=1, max_size=6)
_queries = st.text(alphabet=_ALPHABET, max_size=6).filter(lambda q: sum(ch.isdigit() for ch in q) < 3)


def expected_matches(contacts: list[tuple[str | None, str | None, str | None]], query: str) -> set[str]:
    """The name and email rule: the query (spaces collapsed) is part of a field, ignoring case."""
    text = " ".join(query.split()).lower()
    found = set()
    for index, (first, last, email) in enumerate(contacts):
        full_name = " ".join(part for part in (first, last) if part is not None)
        fields = [value for value in (first, last, email, full_name) if value is not None]
        if not text or any(text in value.lower() for value in fields):
            found.add(f"c{index}")
    return found


@pytest.fixture(scope="module")
def scratch_db():
    """One database the property test refills for every example."""
    con = open_database()
    bootstrap_admin(con)
    yield con
    con.close()


@given(contacts=_contacts, queries=st.lists(_queries, min_size=1, max_size=3))
@settings(max_examples=50, deadline=None)
def test_sql_search_finds_all_the_python_rule_finds(scratch_db, contacts, queries):
    """Every exact/partial match is found; close spellings may add more (tests/test_fuzzy_search.py bounds them)."""
    scratch_db.execute("DELETE FROM contacts")
    scratch_db.executemany(
        "INSERT INTO contacts (contact_id, first_name, last_name, email) VALUES (?, ?, ?, ?)",
        [[f"c{index}", first, last, email] for index, (first, last, email) in enumerate(contacts)],
    )
    rebuild_search_index(scratch_db)  # written past the write paths that keep the search index
    for query in queries:
        assert expected_matches(contacts, query) <= search(scratch_db, query), query


@pytest.mark.parametrize("query", ["gold", "enterprise", "ada", "hopper", "beta", "example", "42"])
def test_a_query_held_by_too_many_contacts_to_list_finds_the_same(people, query):
    """Past the index's list limit a query is scanned: it finds what the index finds."""
    expected = search(people, query)
    with patch.object(search_module, "MAX_MATCHES", 0):
        assert search(people, query) == expected


@pytest.mark.parametrize("limit", [search_module.MAX_MATCHES, 0])
def test_a_word_held_in_names_and_in_custom_values(fresh_db, add_contact, limit):
    define_custom_field(fresh_db, "member_no", "Member number", "text", actor="admin")
    add_contact(fresh_db, "a", first_name="Gold", email="a@example.org")
    add_contact(fresh_db, "b", first_name="Bob", custom={"member_no": "Gold tier"})
    add_contact(fresh_db, "c", first_name="Goldie")  # part of a name: found
    add_contact(fresh_db, "d", first_name="Dan", custom={"member_no": "Goldie"})  # part of a custom word: not
    with patch.object(search_module, "MAX_MATCHES", limit):
        assert set(view_contact_ids(fresh_db, ListView(search="gold"), "admin")) == {"a", "b", "c"}


def test_contacts_have_an_index_on_row_key():
    con = open_database()  # migration 039 (PostgreSQL has had it since 016)
    try:
        assert rows(con, "SELECT count(*) FROM duckdb_indexes() WHERE index_name = 'contacts_row_key'") == [(1,)]
    finally:
        con.close()


def test_candidates_are_checked_the_same_through_the_row_key_index_or_a_join(fresh_db, add_contact):
    """A query with separators checks its candidates on their own rows: fetched by an IN list of their row_keys
    (through the index on row_key, migration 039) when few, joined when many; the same contacts either way."""
    con = fresh_db
    add_contact(con, "maria", first_name="Maria", last_name="Garcia", email="maria.garcia@example.com")
    add_contact(con, "mg", first_name="Maria", last_name="Gardner", email="mg@example.com")
    add_contact(con, "anna", first_name="Annamaria", last_name="Garza", email="anna.maria-gar@example.org")
    for query in ("maria.gar", "maria gar", "a.maria-ga", "Maria Gar"):
        expected = search(con, query)
        with patch.object(search_module, "INDEX_FETCH_LIMIT", 0):
            assert search(con, query) == expected, query
    assert search(con, "maria.gar") == {"maria"}
    assert search(con, "maria-gar") == {"anna"}
