"""The search table (core/views/search_index.py, migration 014): it agrees with a plain ILIKE scan of the stored
values, stays what a rebuild would give after every write path, and the migration carries a database over."""

import string

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.contacts.channels import Channel, set_contact_channels
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, delete_contacts, get_contact, update_contact
from core.db import apply_migrations, frame, migration_files, open_database
from core.duplicates.merge import merge_contacts
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.search import escape_like, search_condition, whole_word_pattern
from core.views.search_index import rebuild_search
from core.workspace import define_custom_field, delete_custom_field, set_dropdown_options


def found(con: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    where, params = search_condition(query)
    return set(frame(con, f"SELECT contact_id FROM contacts c WHERE {where}", params)["contact_id"])


def scanned(con: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    """The quick search as a plain ILIKE scan of the stored values (the rule the search table must give)."""
    text = " ".join(query.split())
    if not text:
        return set(frame(con, "SELECT contact_id FROM contacts")["contact_id"])
    like = f"%{escape_like(text)}%"
    sql = """
        SELECT contact_id FROM contacts c WHERE c.first_name ILIKE $like ESCAPE '\\'
            OR c.last_name ILIKE $like ESCAPE '\\' OR c.email ILIKE $like ESCAPE '\\'
            OR concat_ws(' ', c.first_name, c.last_name) ILIKE $like ESCAPE '\\'
            OR contact_id IN (SELECT contact_id FROM contact_channels WHERE value ILIKE $like ESCAPE '\\')
            OR contact_id IN (SELECT v.contact_id FROM custom_values v JOIN custom_fields f ON f.key = v.field_key
                              WHERE f.type IN ('text', 'number', 'dropdown') AND v.value ILIKE $like ESCAPE '\\'
                              AND regexp_matches(v.value, $word, 'i'))"""
    return set(frame(con, sql, {"like": like, "word": whole_word_pattern(text)})["contact_id"])


def search_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return sorted(con.execute("SELECT * FROM contact_search").fetchall(), key=str)


def assert_current(con: duckdb.DuckDBPyConnection) -> None:
    """What the write paths left is what a rebuild from the stored values gives."""
    left = search_rows(con)
    rebuild_search(con)
    assert left == search_rows(con)


# --- property: the table agrees with a plain ILIKE scan -----------------------------------------------------------

_ALPHABET = string.ascii_letters + "01éÉß.-_%'\\@ "
_words = st.text(alphabet=_ALPHABET.replace(" ", ""), min_size=1, max_size=6)
_values = st.none() | st.lists(_words, min_size=1, max_size=2).map(" ".join)
_contact = st.tuples(_values, _values, _values, _values, _values, _values)  # first, last, email, extra, text, check
_queries = st.text(alphabet=_ALPHABET, max_size=6)


@pytest.fixture(scope="module")
def scratch_db():
    con = open_database()
    bootstrap_admin(con)
    define_custom_field(con, "note", "Note", "text", actor="admin")
    define_custom_field(con, "flag", "Flag", "checkbox", actor="admin")
    yield con
    con.close()


@given(contacts=st.lists(_contact, min_size=1, max_size=6), queries=st.lists(_queries, min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_the_search_table_agrees_with_an_ilike_scan(scratch_db, contacts, queries):
    con = scratch_db
    for table in ("contacts", "contact_channels", "custom_values"):
        con.execute(f"DELETE FROM {table}")
    for index, (first, last, email, extra, note, flag) in enumerate(contacts):
        contact_id = f"c{index}"
        con.execute(
            "INSERT INTO contacts (contact_id, first_name, last_name, email) VALUES (?, ?, ?, ?)",
            [contact_id, first, last, email],
        )
        if extra is not None:
            con.execute("INSERT INTO contact_channels VALUES (?, 'email', ?, NULL, 1)", [contact_id, extra])
        if note is not None:
            con.execute("INSERT INTO custom_values VALUES (?, 'note', ?)", [contact_id, note])
        if flag is not None:  # a checkbox is never searched
            con.execute("INSERT INTO custom_values VALUES (?, 'flag', ?)", [contact_id, flag])
    rebuild_search(con)
    # Random queries rarely hit: a piece of each stored value is searched too.
    pieces = [value[1:4] for contact in contacts for value in contact if value]
    for query in [*queries, *pieces]:
        assert found(con, query) == scanned(con, query), query


# --- every write path keeps it current --------------------------------------------------------------------------


def test_create_edit_channels_import_merge_delete_keep_it_current(fresh_db):
    con = fresh_db
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    define_custom_field(con, "member_no", "Member number", "text", actor="admin")
    ada = create_contact(con, ContactInput(first_name="Ada", last_name="Lovelace", email="ada@example.com"), "admin")
    bob = create_contact(
        con, ContactInput(first_name="Bob", email="bob@example.com", custom={"member_no": "M-77"}), "admin"
    )
    assert found(con, "lovelace") == {ada.contact_id} and found(con, "m-77") == {bob.contact_id}
    assert_current(con)

    update_contact(con, ada.contact_id, {"last_name": "Byron", "custom.plan": "Pro"}, ada.version, "admin")
    assert found(con, "lovelace") == set() and found(con, "ada byron") == {ada.contact_id}
    assert found(con, "pro") == {ada.contact_id}
    assert_current(con)

    version = get_contact(con, bob.contact_id).version
    set_contact_channels(con, bob.contact_id, "email", [Channel(value="robert@work.example.org")], version, "admin")
    set_contact_channels(con, bob.contact_id, "phone", [Channel(value="+1 415 555 0199")], version + 1, "admin")
    assert found(con, "work.example") == {bob.contact_id} and found(con, "415 555 0199") == {bob.contact_id}
    assert_current(con)

    csv = b"First Name,Last Name,Email,Member number\nCarla,Import,carla@example.com,M-9\nBob,,bob@example.com,M-78\n"
    table = read_table("people.csv", csv)
    commit_import(con, plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers))), "admin")
    assert found(con, "carla") != set() and found(con, "m-78") == {bob.contact_id}
    assert_current(con)

    set_dropdown_options(con, "plan", ["Free", "Premium"], "admin", {"Pro": "Premium"})
    assert found(con, "premium") == {ada.contact_id} and found(con, "pro") == set()
    assert_current(con)

    carla = next(iter(found(con, "carla")))
    merge_contacts(con, bob.contact_id, [carla], "admin")
    assert found(con, "carla") == {bob.contact_id}  # the secondary's email is the primary's additional one now
    assert_current(con)

    delete_custom_field(con, "member_no", "member_no", "admin")
    assert found(con, "m-78") == set()
    assert_current(con)

    delete_contacts(con, [ada.contact_id], "admin", 1)
    assert found(con, "ada") == set()
    assert con.execute("SELECT count(*) FROM contact_search WHERE contact_id = ?", [ada.contact_id]).fetchone() == (0,)
    assert_current(con)


# --- migration 014 carries an older database over ---------------------------------------------------------------


def _database_at(version: int) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the migrations up to `version` only, as an older release left it."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    for number, name, sql in migration_files():
        if number <= version:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_localtimestamp())", [number, name])
    return con


def test_migration_014_fills_the_search_table_and_keeps_every_custom_value():
    con = _database_at(13)
    con.execute(
        "INSERT INTO custom_fields (key, label, type, position) VALUES "
        "('plan', 'Plan', 'dropdown', 1), ('score', 'Score', 'number', 2), ('vip', 'VIP', 'checkbox', 3)"
    )
    con.execute(
        "INSERT INTO contacts (contact_id, first_name, last_name, email, phone) SELECT 'k' || i, 'First' || i, "
        "'Last' || (i % 7), 'p' || i || '@example.com', '+1415555' || lpad(i::VARCHAR, 4, '0') FROM range(300) t(i)"
    )
    con.execute(
        "INSERT INTO custom_values SELECT 'k' || i, 'plan', CASE WHEN i % 2 = 0 THEN 'Pro' ELSE 'Free' END "
        "FROM range(300) t(i) UNION ALL SELECT 'k' || i, 'score', (i * 1.5)::VARCHAR FROM range(0, 300, 3) t(i) "
        "UNION ALL SELECT 'k' || i, 'vip', 'true' FROM range(0, 300, 5) t(i)"
    )
    con.execute("INSERT INTO contact_channels VALUES ('k1', 'email', 'other@work.example.org', 'work', 1)")
    values_before = sorted(con.execute("SELECT * FROM custom_values").fetchall())
    assert "014_contact_search.sql" in apply_migrations(con)
    assert sorted(con.execute("SELECT * FROM custom_values").fetchall()) == values_before
    indexes = {
        row[0]
        for row in con.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'custom_values'").fetchall()
    }
    assert "custom_values_contact" in indexes
    with pytest.raises(duckdb.ConstraintException):  # the key is kept
        con.execute("INSERT INTO custom_values VALUES ('k0', 'plan', 'Pro')")
    assert con.execute("SELECT count(*) FROM contact_search").fetchone() == (300,)
    assert_current(con)
    assert found(con, "work.example") == {"k1"} and found(con, "first12") == {
        "k12",
        *(f"k{i}" for i in range(120, 130)),
    }
    assert len(found(con, "pro")) == 150 and found(con, "415 555 0042") == {"k42"}
