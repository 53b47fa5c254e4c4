"""Search forgives typos (issue 13): close spellings of names and email local parts, ranked after exact hits."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from core.accounts.users import bootstrap_admin
from core.contacts.channels import Channel, set_contact_channels
from core.contacts.records import get_contact, update_contact
from core.db import open_database
from core.views.fuzzy import (
    MAX_ALTERNATIVES,
    Words,
    allowed_typos,
    close_words,
    fuzzy_condition,
    query_words,
    same_digits,
    vocabulary,
    words_to_match,
)
from core.views.queries import ListView, list_contacts, view_contact_ids
from core.views.search_index import rebuild_search_index


def search(con, query: str) -> set[str]:
    return set(view_contact_ids(con, ListView(search=query), "admin"))


def add_people(con, add_contact) -> None:
    add_contact(con, "varughese", first_name="Anil", last_name="Varughese", email="anil.v@example.com")
    add_contact(con, "john", first_name="John", last_name="Smith", email="john.smith@example.com")
    add_contact(con, "jon", first_name="Jonas", last_name="Smith", email="js@example.org")
    add_contact(con, "smyth", first_name="Jane", last_name="Smyth", email="jane@example.org")
    add_contact(con, "joan", first_name="Joan", last_name="Baez", email="joan@example.org")
    add_contact(con, "maria", first_name="Maria", last_name="Lopez", email="maria.garcia77@example.com")
    add_contact(con, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    add_contact(con, "li", first_name="Wei", last_name="Li", email="wl@example.cn")


@pytest.fixture(scope="module")
def people(add_contact):
    con = open_database()
    bootstrap_admin(con)
    add_people(con, add_contact)
    yield con
    con.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Varugese", {"varughese"}),  # a missing letter
        ("varuhgese", {"varughese"}),  # two swapped
        ("Varxghese", {"varughese"}),  # a wrong one
        ("Varugheese", {"varughese"}),  # an extra one
        ("Jonh Smith", {"john"}),
        ("Smith John", {"john"}),  # reversed
        ("smiht jonh", {"john"}),  # reversed, both misspelt
        ("Lovelace Ada", {"ada"}),
        ("Li Wei", {"li"}),  # reversed short words: each word exact
        ("Li We", set()),
        ("maria.garica77", {"maria"}),  # an email local part
        ("maria.garcai77@example.com", {"maria"}),
        ("maria.garcia7@example.com", set()),  # a digit off is another account, not a typo
        ("Smith", {"john", "jon", "smyth"}),  # Smyth is one letter away
    ],
)
def test_close_spellings_are_found(people, query, expected):
    assert search(people, query) == expected


@pytest.mark.parametrize("query", ["jo", "smi", "jnh", "ad", "^ada", "ada$", "a.a", "a b c d e"])
def test_short_words_and_signs_stay_exact(people, query):
    """Under four letters a typo would match half the names: such queries find only what holds them."""
    assert fuzzy_condition(people, query) is None


def test_an_unrelated_query_finds_nothing(people):
    assert search(people, "Quixote") == set()
    assert search(people, "zzzz") == set()
    assert search(people, "smith john ada joan maria") == set()  # five words: not a name


def test_close_spellings_rank_after_exact_and_partial_matches(people):
    # Sorted by last name descending, Smyth would come first; it is only a close spelling of "smith".
    page = list_contacts(people, ListView(search="smith", sort="last_name", descending=False), "admin")
    assert page.total == 3
    assert page.rows["contact_id"].to_list() == ["john", "jon", "smyth"]
    page = list_contacts(people, ListView(search="smith", sort="last_name", descending=True), "admin")
    assert page.rows["contact_id"].to_list()[-1] == "smyth"
    # paging keeps the order: the close spelling is on the last page
    second = list_contacts(people, ListView(search="smith", sort="first_name", page=2, page_size=2), "admin")
    assert second.total == 3 and second.rows["contact_id"].to_list() == ["smyth"]


def test_the_vocabulary_is_cached_until_the_data_changes(tmp_path, add_contact):
    con = open_database(tmp_path / "contacts.duckdb")
    bootstrap_admin(con)
    try:
        add_contact(con, "john", first_name="John", last_name="Smith")
        first = vocabulary(con, "names")
        assert vocabulary(con, "names") is first  # unchanged data: the cached one
        assert search(con, "Varugese") == set()
        anil = add_contact(con, "varughese", first_name="Anil", last_name="Varughese")
        assert search(con, "Varugese") == {"varughese"}
        update_contact(con, "varughese", {"last_name": "Kurian"}, anil.version, "admin")  # as the app writes
        assert search(con, "Varugese") == set()
        assert search(con, "Kurain") == {"varughese"}
    finally:
        con.close()


def test_close_local_parts_of_additional_emails_are_found_and_follow_edits(tmp_path, add_contact):
    """A close local part lists its contacts from the cached vocabulary (primary and additional emails); an edit of
    an email moves them."""
    con = open_database(tmp_path / "contacts.duckdb")
    bootstrap_admin(con)
    try:
        add_contact(con, "maria", first_name="Maria", last_name="Lopez", email="maria.garcia@example.com")
        bob = add_contact(con, "bob", first_name="Bob", last_name="Stone", email="bob@example.org")
        add_contact(con, "ana", first_name="Ana", last_name="Ruiz", email="maria.gonzalez@example.org")
        set_contact_channels(con, "bob", "email", [Channel(value="Maria.Garcia@Work.example")], bob.version, "admin")
        assert search(con, "maria.garcai") == {"maria", "bob"}
        maria = get_contact(con, "maria")
        update_contact(con, "maria", {"email": "m.lopez@example.com"}, maria.version, "admin")
        assert search(con, "maria.garcai") == {"bob"}
        assert search(con, "m.lopes") == {"maria"}
    finally:
        con.close()


# --- property: the old exact/partial hits are all still found; every extra is a close spelling ----------

_ALPHABET = string.ascii_lowercase[:6] + "0.-_@ "
_words = st.text(alphabet=_ALPHABET.replace(" ", ""), min_size=1, max_size=7)
_names = st.none() | _words
_contacts = st.lists(st.tuples(_names, _names, _names), min_size=1, max_size=8)
_queries = st.text(alphabet=_ALPHABET, max_size=9)


def partial_matches(contacts, query: str) -> set[str]:
    """The exact/partial rule: the query (spaces collapsed) is part of a name, the full name or the email."""
    text = " ".join(query.split()).lower()
    found = set()
    for index, (first, last, email) in enumerate(contacts):
        full_name = " ".join(part for part in (first, last) if part is not None)
        if any(text in value.lower() for value in (first, last, email, full_name) if value is not None):
            found.add(f"c{index}")
    return found


def close_matches(contacts, query: str) -> set[str]:
    """The typo rule: every query word is within its allowed typos of a name (or, if email-like, a local part)."""
    words = query_words(query)
    if not words_to_match(words):
        return set()
    found = set()
    for index, (first, last, email) in enumerate(contacts):
        names = [value.lower() for value in (first, last) if value]
        local = [email.split("@", 1)[0].lower()] if email and "@" in email and email.split("@", 1)[0] else []
        if all(
            any(
                OSA.distance(word, held) <= allowed_typos(word) and same_digits(word, held)
                for held in names + (local if maybe_email else [])
            )
            for word, maybe_email in words
        ):
            found.add(f"c{index}")
    return found


@pytest.fixture(scope="module")
def scratch_db():
    con = open_database()
    bootstrap_admin(con)
    yield con
    con.close()


@given(contacts=_contacts, queries=st.lists(_queries, min_size=1, max_size=3))
@settings(max_examples=60, deadline=None)
def test_exact_hits_are_kept_and_extras_are_close_spellings(scratch_db, contacts, queries):
    scratch_db.execute("DELETE FROM contacts")
    scratch_db.executemany(
        "INSERT INTO contacts (contact_id, first_name, last_name, email) VALUES (?, ?, ?, ?)",
        [[f"c{index}", first, last, email] for index, (first, last, email) in enumerate(contacts)],
    )
    rebuild_search_index(scratch_db)  # written past the write paths that keep the search index
    for query in queries:
        exact = partial_matches(contacts, query) if query.strip() else {f"c{i}" for i in range(len(contacts))}
        found = search(scratch_db, query)
        assert exact <= found, query
        assert found - exact <= close_matches(contacts, query), query


def test_digits_must_match_as_typed():
    assert same_digits("person7", "person7") and not same_digits("person7", "person17")
    assert same_digits("maria.garica77", "maria.garcia77")


_ALPHABET = "abcdeéßзы0.-_+'"
_vocabulary_word = st.text(alphabet=_ALPHABET, min_size=1, max_size=9)


@st.composite
def _edited(draw: st.DrawFn, word: str) -> str:
    """The word with up to three letters wrong, missing, extra or swapped."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(word)))
        letter = draw(st.sampled_from(_ALPHABET))
        edit = draw(st.sampled_from(["wrong", "missing", "extra", "swapped"]))
        if edit == "extra" or not word[at:]:
            word = word[:at] + letter + word[at:]
        elif edit == "wrong":
            word = word[:at] + letter + word[at + 1 :]
        elif edit == "missing" and len(word) > 1:
            word = word[:at] + word[at + 1 :]
        elif edit == "swapped" and len(word) > at + 1:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word


@given(data=st.data(), word=_vocabulary_word)
@settings(max_examples=300, deadline=None)
def test_letter_counts_leave_out_no_close_word(data, word):
    """The letter-count filter only drops words too far apart: close_words finds every word within the typos."""
    stored = set(data.draw(st.lists(st.one_of(_edited(word), _vocabulary_word), max_size=40)))
    grouped: dict[int, list[str]] = {}
    for stored_word in sorted(stored):
        grouped.setdefault(len(stored_word), []).append(stored_word)
    typos = allowed_typos(word)
    expected = {w for w in stored if OSA.distance(word, w) <= typos and same_digits(word, w)}
    found = close_words(Words(grouped), word)
    assert set(found) == expected or (len(found) == MAX_ALTERNATIVES and set(found) < expected)
