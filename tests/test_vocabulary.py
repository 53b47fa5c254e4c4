"""The typo search's vocabularies kept on write (core/views/vocabulary.py, migration 041): after any mix of writes
they hold what a scan of the contacts finds, and a search reads the same contacts as after a rebuild."""

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.contacts.channels import Channel, set_contact_channels
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, delete_contacts, get_contact, update_contact
from core.db import rows
from core.duplicates.merge import merge_contacts
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.fuzzy import MAX_ALTERNATIVES, close_words, load_vocabulary
from core.views.queries import ListView, view_contact_ids
from core.views.search_index import rebuild_search_index, refresh_search_index
from core.views.vocabulary import (
    Words,
    forget_vocabularies,
    generation,
    grouped,
    holders_of,
    live_words,
    vocabulary,
)


def search(con, query: str) -> set[str]:
    return set(view_contact_ids(con, ListView(search=query), "admin"))


def words_of(con, kind) -> set[str]:
    words = vocabulary(con, kind)
    return {word for group in words.by_length.values() for word in group}


def live_holders(con) -> set[tuple[str, str, int]]:
    """The kept holders of contacts that exist (a deleted contact's rows stay until a rebuild)."""
    found = rows(
        con,
        "SELECT kind, word, row_key FROM vocabulary_holders WHERE row_key IN (SELECT row_key FROM contacts)",
    )
    return set(found)


def scanned_holders(con) -> set[tuple[str, str, int]]:
    """What the contacts hold, read from them in Python."""
    held = set()
    for row_key, first, last, email in rows(con, "SELECT row_key, first_name, last_name, email FROM contacts"):
        held |= {("names", name.lower(), row_key) for name in (first, last) if name}
        if email and email.split("@", 1)[0]:
            held.add(("locals", email.split("@", 1)[0].lower(), row_key))
    extra = rows(
        con,
        "SELECT c.row_key, ch.value FROM contact_channels ch JOIN contacts c ON c.contact_id = ch.contact_id "
        "WHERE ch.kind = 'email'",
    )
    held |= {("locals", value.split("@", 1)[0].lower(), row_key) for row_key, value in extra}
    return held


def test_writes_keep_holders_and_words(fresh_db, add_contact):
    ada = add_contact(fresh_db, "ada", first_name="Ada", last_name="Lovelace", email="ada.l@example.com")
    add_contact(fresh_db, "bob", first_name="Bob", last_name="Lovelace", email="bob@example.com")
    assert {"ada", "lovelace", "bob"} <= words_of(fresh_db, "names")
    assert {"ada.l", "bob"} <= words_of(fresh_db, "locals")
    assert len(holders_of(fresh_db, "names", ["lovelace"])) == 2
    update_contact(fresh_db, "ada", {"last_name": "Byron", "email": "ada.b@example.com"}, ada.version, "admin")
    assert live_holders(fresh_db) == scanned_holders(fresh_db)
    assert "byron" in words_of(fresh_db, "names") and "ada.b" in words_of(fresh_db, "locals")
    assert live_words(fresh_db, "names", ["lovelace", "byron", "ada", "nobody"]) == {"lovelace", "byron", "ada"}


def test_a_search_after_a_write_reads_only_the_new_words(fresh_db, add_contact):
    add_contact(fresh_db, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    first = vocabulary(fresh_db, "names")
    assert vocabulary(fresh_db, "names") is first  # nothing written: the kept one
    bob = add_contact(fresh_db, "bob", first_name="Bob", last_name="Lovelace", email="bob@example.com")
    second = vocabulary(fresh_db, "names")
    assert second is not first and second.of_length(3) == ["ada", "bob"]
    assert first.of_length(3) == ["ada"]  # a search holding the first one still reads it as it was
    assert words_of(fresh_db, "names") == {"ada", "lovelace", "bob"}
    update_contact(fresh_db, "bob", {"phone": "+1 415 555 0100"}, bob.version, "admin")  # no new word: no batch
    assert vocabulary(fresh_db, "names") is second
    assert rows(fresh_db, "SELECT count(DISTINCT batch) FROM vocabulary_words")[0][0] == 2  # ada's, bob's


def test_a_rebuild_starts_a_new_generation(fresh_db, add_contact):
    add_contact(fresh_db, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    before = generation(fresh_db)
    words_of(fresh_db, "names")
    delete_contacts(fresh_db, ["ada"], "admin", 1)
    assert "lovelace" in words_of(fresh_db, "names")  # kept until a rebuild: its holder is gone
    assert live_words(fresh_db, "names", ["lovelace"]) == set()
    rebuild_search_index(fresh_db)
    assert generation(fresh_db) != before
    assert words_of(fresh_db, "names") == set()


def test_words_whose_holders_went_give_their_places_to_held_ones(fresh_db, add_contact):
    """More than MAX_ALTERNATIVES names are close to 'smithx': the closest ones, deleted, stay in the kept
    vocabulary but must not push held names out of the alternatives."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    for letter in letters:
        add_contact(fresh_db, f"c{letter}", first_name="Ann", last_name=f"Smith{letter}", email=f"{letter}@x.org")
    assert len(close_words(vocabulary(fresh_db, "names"), "smithx")) == MAX_ALTERNATIVES
    delete_contacts(fresh_db, ["ca", "cb", "cc"], "admin", 3)
    found = search(fresh_db, "smithx")
    assert found == {f"c{letter}" for letter in letters[3:]}  # 23 of them, the x itself among them
    forget_vocabularies()
    rebuild_search_index(fresh_db)
    assert search(fresh_db, "smithx") == found


# --- property: any mix of writes keeps what a scan of the contacts finds ------------------------------------------

_name = st.sampled_from(["Ann", "Anne", "Bob", "Smith", "Smyth", "Jones", "Joans", None])
_local = st.sampled_from(["ann", "ann.s", "anne.s", "bob", "bob1", "smith", "jo.nes"])
_email = st.builds(lambda local, domain: f"{local}@{domain}", _local, st.sampled_from(["x.org", "y.com"]))
_who = st.integers(0, 5)
_step = st.one_of(
    st.tuples(st.just("create"), _name, _name, _email),
    st.tuples(st.just("edit"), _who, _name, _name, st.none() | _email),
    st.tuples(st.just("channels"), _who, st.lists(_email, max_size=2)),
    st.tuples(st.just("merge"), _who, _who),
    st.tuples(st.just("delete"), _who),
    st.tuples(st.just("import"), st.lists(st.tuples(_name, _name, _email), min_size=1, max_size=3)),
)
_queries = ["anne", "smiht", "jonse", "ann.z", "bob2", "smith.x", "anne.s@x.org", "Smyth Anne"]


def _apply(con, step: tuple) -> None:
    ids = [contact_id for (contact_id,) in rows(con, "SELECT contact_id FROM contacts ORDER BY contact_id")]
    kind = step[0]
    if kind == "create":
        _, first, last, email = step
        create_contact(con, ContactInput(first_name=first, last_name=last, email=email), "admin")
    elif kind == "import":
        lines = ["first_name,last_name,email"] + [f"{f or ''},{la or ''},{e}" for f, la, e in step[1]]
        table = read_table("people.csv", "\n".join(lines).encode())
        commit_import(con, plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers))), "admin")
    elif not ids:
        return
    elif kind == "edit":
        _, who, first, last, email = step
        contact = get_contact(con, ids[who % len(ids)])
        changes = {"first_name": first, "last_name": last} | ({"email": email} if email else {})
        update_contact(con, contact.contact_id, changes, contact.version, "admin")
    elif kind == "channels":
        _, who, emails = step
        contact = get_contact(con, ids[who % len(ids)])
        items = [Channel(value=email) for email in dict.fromkeys(emails) if email != contact.email]
        set_contact_channels(con, contact.contact_id, "email", items, contact.version, "admin")
    elif kind == "merge" and ids[step[1] % len(ids)] != ids[step[2] % len(ids)]:
        merge_contacts(con, ids[step[1] % len(ids)], [ids[step[2] % len(ids)]], "admin")
    elif kind == "delete":
        delete_contacts(con, [ids[step[1] % len(ids)]], "admin", 1)


@given(steps=st.lists(_step, min_size=1, max_size=8))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_kept_vocabulary_equals_one_rebuilt_from_scratch(fresh_db, steps):
    existing = [contact_id for (contact_id,) in rows(fresh_db, "SELECT contact_id FROM contacts")]
    if existing:
        delete_contacts(fresh_db, existing, "admin", len(existing))
    rebuild_search_index(fresh_db)
    for step in steps:
        try:
            _apply(fresh_db, step)
            event(f"{step[0]} written")
        except Exception as error:  # a write the app refuses (a duplicate email...) changes nothing
            if type(error).__name__ not in {"ContactsError", "StaleContactError", "ValidationError"}:
                raise
            event(f"{step[0]} refused")
        assert live_holders(fresh_db) == scanned_holders(fresh_db), step
    for kind in ("names", "locals"):
        scanned = load_vocabulary(fresh_db, kind)
        held = {word for group in scanned.by_length.values() for word in group}
        assert held <= words_of(fresh_db, kind)  # every held word is kept (and perhaps some whose holders went)
        assert live_words(fresh_db, kind, sorted(words_of(fresh_db, kind))) == held
    found = {query: search(fresh_db, query) for query in _queries}
    forget_vocabularies()
    rebuild_search_index(fresh_db)
    assert {query: search(fresh_db, query) for query in _queries} == found
    for kind in ("names", "locals"):
        assert words_of(fresh_db, kind) == {w for g in load_vocabulary(fresh_db, kind).by_length.values() for w in g}


def test_words_added_keep_the_letter_counts_in_step():
    words = grouped(["smith", "jones"])
    assert words.within_counts("smith", 1) == ["smith"]  # counts made for length 5
    more = words.with_added(["smyth", "smith"])
    assert more.of_length(5) == ["smith", "jones", "smyth"]
    assert more.within_counts("smith", 1) == ["smith", "smyth"]
    assert words.of_length(5) == ["smith", "jones"]  # the shared one is left as it was
    assert words.with_added(["jones"]) is words


@pytest.mark.parametrize("kind", ["names", "locals"])
def test_an_empty_database_has_empty_vocabularies(fresh_db, kind):
    assert isinstance(vocabulary(fresh_db, kind), Words)
    assert words_of(fresh_db, kind) == set()


def test_a_batch_committed_after_a_later_one_is_read_when_it_commits(fresh_db, add_contact):
    """Two writers take batches 1 and 2; 2 commits first and a search reads it: 1 is kept as a gap and read once it
    commits (a reader that moved past it would never see its words)."""
    add_contact(fresh_db, "ada", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    vocabulary(fresh_db, "names")
    slow = fresh_db.cursor()
    try:
        slow.execute("BEGIN TRANSACTION")
        slow.execute("INSERT INTO contacts (contact_id, first_name, last_name) VALUES ('kurt', 'Kurt', 'Goedel')")
        refresh_search_index(slow, ["kurt"])  # takes its batch, not committed yet
        add_contact(fresh_db, "emmy", first_name="Emmy", last_name="Noether", email="emmy@example.com")
        assert "noether" in words_of(fresh_db, "names") and "goedel" not in words_of(fresh_db, "names")
        slow.execute("COMMIT")
    finally:
        slow.close()
    assert "goedel" in words_of(fresh_db, "names")
    assert search(fresh_db, "Godel") == {"kurt"}
