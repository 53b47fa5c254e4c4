"""Duplicate detection: match keys, exact and likely pairs, groups, thresholds and "not a duplicate" marks."""

import re
from datetime import date

import duckdb
import polars as pl
import pytest
from conftest import AddContact
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.contacts.records import delete_contacts
from core.contacts.validation import custom_fields
from core.db.dialect import dialect
from core.duplicates import (
    blocking,
    duplicate_groups,
    email_key,
    find_duplicates,
    group_members,
    group_of,
    group_summaries,
    last_run,
    mark_not_duplicates,
    same_email_or_phone,
)
from core.duplicates.blocking import BLOCKING_RULES, BlockingCount, bounded
from core.duplicates.groups import member_pairs
from core.duplicates.keys import install_macros
from core.errors import ContactsError
from core.workspace import define_custom_field, set_identity_fields

ACTOR = "admin"


def groups_of(con: duckdb.DuckDBPyConnection, **options) -> list[set[str]]:
    members = duplicate_groups(con, **options)
    return sorted((set(ids) for ids in members.group_by("group_id").agg("contact_id")["contact_id"]), key=min)


@pytest.fixture
def con(fresh_db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    bootstrap_admin(fresh_db)
    return fresh_db


# --- Match keys ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "key"),
    [
        (" Ada.Lovelace@Example.com ", "ada.lovelace@example.com"),  # case and spaces, dots kept
        ("ada.lovelace+news@example.com", "ada.lovelace+news@example.com"),  # unknown provider: +tag kept
        ("Ada.Love.Lace+news@gmail.com", "adalovelace@gmail.com"),  # gmail ignores dots and +tags
        ("ada.lovelace@googlemail.com", "adalovelace@gmail.com"),  # the same mailbox
        ("ada+work@outlook.com", "ada@outlook.com"),  # +tags ignored, dots kept
        ("a.da+x@Hotmail.com", "a.da@hotmail.com"),
        ("", None),
        (None, None),
    ],
)
def test_email_key_normalises_as_the_provider_does(email, key):
    assert email_key(email) == key


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    local=st.text(alphabet="abcXY.+_-1", min_size=0, max_size=12),
    domain=st.sampled_from(["gmail.com", "GoogleMail.com", "outlook.com", "example.com", "icloud.com", ""]),
    at=st.booleans(),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_the_sql_key_is_the_python_key(local, domain, at, pad):
    email = f"{pad}{local}{'@' if at else ''}{domain}{pad}"
    con = duckdb.connect()
    install_macros(con)
    assert con.execute("SELECT dup_email_key(?)", [email]).fetchall()[0][0] == email_key(email)


# --- Exact groups -------------------------------------------------------------------------------------------


def test_exact_groups_by_normalised_email_and_phone(con, add_contact):
    add_contact(con, "a1", stored=True, email="Maria.Garcia@gmail.com")
    add_contact(con, "a2", stored=True, email="mariagarcia+shop@gmail.com")
    add_contact(con, "a3", stored=True, email=" maria.garcia@googlemail.com")
    add_contact(con, "b1", stored=True, phone="+14155550199", first_name="Li")
    add_contact(con, "b2", stored=True, phone="+14155550199", first_name="Wei")
    add_contact(con, "c1", stored=True, email="tom@example.com")
    add_contact(con, "c2", stored=True, email="t.om@example.com")  # not gmail: a different mailbox
    run = find_duplicates(con, ACTOR)
    assert run.exact_pairs == 4
    members = duplicate_groups(con)
    assert groups_of(con) == [{"a1", "a2", "a3"}, {"b1", "b2"}]
    assert set(members["kind"]) == {"exact"}
    assert set(members["score"]) == {1.0}
    assert "same email" in members.filter(pl.col("contact_id") == "a2")["evidence"].item()
    assert members.filter(pl.col("contact_id") == "b2")["evidence"].item() == "same phone"


@pytest.mark.parametrize("contacts", [0, 1])
def test_a_database_with_fewer_than_two_contacts_has_no_duplicates(con, add_contact, contacts):
    for n in range(contacts):
        add_contact(con, f"only{n}", stored=True, first_name="Ada", last_name="Lovelace")
    run = find_duplicates(con, ACTOR)
    assert (run.exact_pairs, run.likely_pairs) == (0, 0)
    assert duplicate_groups(con).is_empty()


def test_exact_only_skips_likely_pairs(con, add_contact):
    people(con, add_contact)
    add_contact(
        con, "x1", stored=True, first_name="Ottoline", last_name="Quennell", birthday=date(1980, 3, 2), city="Leeds"
    )
    add_contact(
        con, "x2", stored=True, first_name="Ottoline", last_name="Quennell", birthday=date(1980, 3, 2), city="Leeds"
    )
    run = find_duplicates(con, ACTOR, exact_only=True)
    assert (run.exact_pairs, run.likely_pairs, run.exact_only) == (0, 0, True)
    assert groups_of(con, min_score=0.5) == []
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [{"x1", "x2"}]  # same name, birthday and city


# --- Likely pairs -------------------------------------------------------------------------------------------


def people(con: duckdb.DuckDBPyConnection, add_contact: AddContact, count: int = 60) -> None:
    """Distinct background people, so that frequencies mean something."""
    first = ["James", "Olivia", "Noah", "Emma", "Liam", "Ava", "Lucas", "Mia", "Ethan", "Zoe"]
    last = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"]
    for i in range(count):
        add_contact(
            con,
            f"p{i:03d}",
            stored=True,
            first_name=first[i % 10],
            last_name=last[(i * 7 // 10) % 10],
            birthday=date(1950 + i % 40, 1 + i % 12, 1 + i % 28),
            address=f"{i + 1} Station Road",
            postal_code=f"{10000 + i * 37}",
            city=["Leeds", "York", "Hull"][i % 3],
            email=f"person{i}@example.com",
        )


@pytest.mark.slow
def test_a_typo_and_another_email_is_a_likely_duplicate_with_evidence(con, add_contact):
    people(con, add_contact)
    add_contact(
        con,
        "m1",
        stored=True,
        first_name="Marguerite",
        last_name="Okonkwo",
        birthday=date(1984, 7, 9),
        address="12 Alder Lane",
        postal_code="LS6 2AB",
        city="Leeds",
        email="marg@work.example",
    )
    add_contact(
        con,
        "m2",
        stored=True,
        first_name="Margeurite",
        last_name="Okonkwo",
        birthday=date(1984, 7, 9),
        address="12 Alder Ln",
        postal_code="LS62AB",
        city="leeds",
        email="m.okonkwo@home.example",
    )
    find_duplicates(con, ACTOR)
    members = duplicate_groups(con).filter(pl.col("contact_id").is_in(["m1", "m2"]))
    assert members["group_id"].n_unique() == 1 and members.height == 2
    row = members.row(0, named=True)
    assert row["kind"] == "likely" and 0.9 <= row["score"] < 1.0
    assert row["evidence"] == (
        "first name: one typo, +4.7; last name: exact, +5.8; birthday: exact, +4.8; "
        "address: same street and area, +5.5; email: different, -1.0"
    )


def test_a_household_is_not_one_person(con, add_contact):
    people(con, add_contact)
    add_contact(
        con,
        "h1",
        stored=True,
        first_name="Arjun",
        last_name="Raghunathan",
        birthday=date(1970, 2, 3),
        address="4 Elm Street",
        postal_code="YO1 7HH",
        city="York",
    )
    add_contact(
        con,
        "h2",
        stored=True,
        first_name="Priya",
        last_name="Raghunathan",
        birthday=date(1973, 11, 21),
        address="4 Elm Street",
        postal_code="YO1 7HH",
        city="York",
    )
    find_duplicates(con, ACTOR)
    assert duplicate_groups(con, min_score=0.5).filter(pl.col("contact_id").is_in(["h1", "h2"])).is_empty()


@pytest.mark.slow
def test_an_identity_field_links_contacts_despite_a_swapped_name_and_a_typo(con, add_contact):
    define_custom_field(con, "customer_number", "Customer number", "text", is_identity=True, actor="admin")
    people(con, add_contact)
    add_contact(
        con, "i1", stored=True, custom={"customer_number": "CUS-00418813"}, first_name="Keiko", last_name="Tanabe"
    )
    add_contact(
        con, "i2", stored=True, custom={"customer_number": "CUS-00418831"}, first_name="Tanabe", last_name="Keiko"
    )
    find_duplicates(con, ACTOR)
    member = duplicate_groups(con).filter(pl.col("contact_id") == "i2")
    assert member.height == 1
    assert "names: swapped, -1.0" in member["evidence"].item()
    assert "Customer number: one typo, +7.0" in member["evidence"].item()


def test_an_admin_marks_identity_fields_and_the_next_run_uses_them(con, add_contact):
    define_custom_field(con, "customer_number", "Customer number", "text", actor="admin")
    define_custom_field(con, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    people(con, add_contact)
    add_contact(
        con, "i1", stored=True, custom={"customer_number": "CUS-00418813"}, first_name="Keiko", last_name="Tanabe"
    )
    add_contact(
        con, "i2", stored=True, custom={"customer_number": "CUS-00418831"}, first_name="Tanabe", last_name="Keiko"
    )
    find_duplicates(con, ACTOR)
    assert group_of(con, "i1").is_empty()  # a plain text field is no evidence

    bootstrap_admin(con)
    for keys, actor, message in [
        (["customer_number"], "agnes", "is not an active user"),
        (["plan"], ACTOR, "Only text and number fields can identify a contact, not Plan."),
        (["nope"], ACTOR, "Unknown custom field(s): nope."),
    ]:
        with pytest.raises(ContactsError, match=re.escape(message)):
            set_identity_fields(con, keys, actor)
    assert [f.key for f in custom_fields(con) if f.is_identity] == []

    assert set_identity_fields(con, ["customer_number"], ACTOR) == ["customer_number"]
    find_duplicates(con, ACTOR)
    assert set(group_of(con, "i1")["contact_id"]) == {"i1", "i2"}
    set_identity_fields(con, [], ACTOR)
    assert [f.key for f in custom_fields(con) if f.is_identity] == []


def test_generated_names_are_not_evidence(con, add_contact):
    people(con, add_contact)
    for contact_id in ("g1", "g2"):
        add_contact(
            con, contact_id, stored=True, first_name="Brave", last_name="Otter", name_generated=True, city="Leeds"
        )
    find_duplicates(con, ACTOR)
    assert duplicate_groups(con, min_score=0.5).filter(pl.col("contact_id").is_in(["g1", "g2"])).is_empty()


def test_groups_join_pairs_and_the_threshold_moves_them(con, add_contact):
    people(con, add_contact)
    add_contact(
        con,
        "t1",
        stored=True,
        email="lena@example.org",
        first_name="Lena",
        last_name="Vasquez-Ortiz",
        birthday=date(1991, 5, 17),
        postal_code="HU1 1AA",
        city="Hull",
    )
    add_contact(con, "t2", stored=True, email="lena@example.org", first_name="Lena", last_name="Vasquez")
    add_contact(
        con,
        "t3",
        stored=True,
        email="lv@elsewhere.example",
        first_name="Lena",
        last_name="Vasquez-Ortiz",
        birthday=date(1991, 5, 17),
        postal_code="HU1 1AA",
        city="Hull",
    )
    find_duplicates(con, ACTOR)
    members = duplicate_groups(con, min_score=0.5)
    group = members.filter(pl.col("contact_id").is_in(["t1", "t2", "t3"]))
    assert group["group_id"].n_unique() == 1 and group.height == 3  # t2 - t1 exact, t1 - t3 likely
    assert set(group["kind"]) == {"likely"} and set(group["size"]) == {3}
    summary = group_summaries(members).filter(pl.col("group_id") == group["group_id"][0])
    assert summary["size"].item() == 3 and summary["contact_ids"].item().to_list() == ["t1", "t2", "t3"]
    likely_score = group.filter(pl.col("contact_id") == "t3")["score"].item()
    assert groups_of(con, min_score=min(likely_score + 0.0001, 1.0)) == [{"t1", "t2"}]
    assert groups_of(con, kind="exact") == [{"t1", "t2"}]


# --- Marks, merges and lookups ------------------------------------------------------------------------------


def test_not_a_duplicate_is_never_proposed_again(con, add_contact):
    add_contact(con, "n1", stored=True, email="same@example.com")
    add_contact(con, "n2", stored=True, email="same@example.com")
    add_contact(con, "n3", stored=True, email="same@example.com")
    find_duplicates(con, ACTOR)
    assert mark_not_duplicates(con, ["n3", "n1"], ACTOR) == 1
    # Marked different, n1 and n3 are not grouped through n2 either: n2 stays with one of them (the group split).
    assert groups_of(con) == [{"n1", "n2"}]
    assert mark_not_duplicates(con, ["n1", "n2", "n3"], ACTOR) == 2
    assert groups_of(con) == []
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [] and same_email_or_phone(con, "n1") == []
    with pytest.raises(ContactsError):
        mark_not_duplicates(con, ["n1"], ACTOR)
    with pytest.raises(ContactsError):
        mark_not_duplicates(con, ["n1", "gone"], ACTOR)


def test_deleted_contacts_leave_their_groups_and_lookups_are_per_contact(con, add_contact):
    add_contact(con, "d1", stored=True, email="d@example.com")
    add_contact(con, "d2", stored=True, email="D@example.com")
    add_contact(con, "d3", stored=True, phone="+442071838750")
    add_contact(con, "d4", stored=True, phone="+442071838750")
    find_duplicates(con, ACTOR)
    assert set(group_of(con, "d1")["contact_id"]) == {"d1", "d2"}
    assert group_of(con, "d3")["group_id"].unique().to_list() == ["d3"]
    assert group_of(con, "nobody").is_empty()
    add_contact(con, "d5", stored=True, phone="+442071838750")  # after the run: the live check still sees it
    assert same_email_or_phone(con, "d5") == ["d3", "d4"]
    delete_contacts(con, ["d2"], ACTOR, 1)
    assert groups_of(con) == [{"d3", "d4"}]
    assert group_of(con, "d1").is_empty()


def test_the_live_check_finds_the_same_mailbox_as_detection_does(con, add_contact):
    add_contact(con, "g1", stored=True, email="jane.doe@gmail.com")
    add_contact(con, "g2", stored=True, email="JaneDoe+shop@googlemail.com")
    add_contact(con, "g3", stored=True, email="j.a.n.e.d.o.e@gmail.com")
    add_contact(con, "g4", stored=True, email="jane.doe@example.com")  # dots matter at other providers
    add_contact(con, "o1", stored=True, email="mary+news@outlook.com")
    add_contact(con, "o2", stored=True, email="mary@outlook.com")
    add_contact(con, "o3", stored=True, email="m.ary@outlook.com")  # outlook.com keeps dots
    add_contact(con, "u1", stored=True, email="a_b@corp.example")
    add_contact(con, "u2", stored=True, email="axb@corp.example")  # '_' is a character, not a wildcard
    add_contact(con, "u3", stored=True, email="A_B@corp.example ")
    assert same_email_or_phone(con, "g2") == ["g1", "g3"]
    assert same_email_or_phone(con, "g4") == []
    assert same_email_or_phone(con, "o2") == ["o1"]
    assert same_email_or_phone(con, "u1") == ["u3"]
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [{"g1", "g2", "g3"}, {"o1", "o2"}, {"u1", "u3"}]


def test_an_additional_email_or_phone_makes_an_exact_pair(fresh_db, add_contact):
    from core.duplicates.exact import exact_pairs

    add_contact(fresh_db, "a1", email="ada@example.com")
    add_contact(fresh_db, "b1", email="other@example.com", phone="+14155550101")
    add_contact(fresh_db, "c1", email="third@example.com")
    fresh_db.execute(
        "INSERT INTO contact_channels VALUES ('b1', 'email', 'ada@example.com', 'work', 1), "
        "('c1', 'phone', '+14155550101', NULL, 1)"
    )
    pairs = exact_pairs(fresh_db).sort("contact_a", "contact_b").select("contact_a", "contact_b", "evidence").rows()
    assert pairs == [("a1", "b1", "same email"), ("b1", "c1", "same phone")]


def test_a_group_shows_its_weakest_link():
    pairs = pl.DataFrame(
        {
            "contact_a": ["a", "b", "x"],
            "contact_b": ["b", "c", "y"],
            "kind": ["likely", "likely", "exact"],
            "score": [0.99, 0.91, 1.0],
            "evidence": ["names", "names and town", "same email"],
        }
    )
    members = group_members(pairs)
    weakest = dict(members.select("group_id", "weakest_score").unique().iter_rows())
    assert weakest == {"a": 0.91, "x": 1.0}
    assert group_summaries(members)["weakest_score"].to_list() == [1.0, 0.91]


# --- Groups without chaining -----------------------------------------------------------------------------


def test_a_chain_through_a_shared_email_and_a_shared_phone_does_not_group_two_people(con, add_contact):
    # Ada and her assistant Bea share a mailbox; Bea and Carl share a desk phone; Ada and Carl are strangers.
    add_contact(
        con, "a", stored=True, first_name="Ada", last_name="Quennell", birthday=date(1971, 4, 9), email="office@q.com"
    )
    add_contact(
        con, "b", stored=True, first_name="Bea", last_name="Quennell", email="office@q.com", phone="+14155550123"
    )
    add_contact(
        con, "c", stored=True, first_name="Carl", last_name="Marston", birthday=date(1990, 12, 1), phone="+14155550123"
    )
    find_duplicates(con, ACTOR)
    assert not any({"a", "c"} <= group for group in groups_of(con, min_score=0.5))
    assert len(groups_of(con)) == 1  # the strongest link holds, the other side is left alone
    # The details page's group is the same split group.
    assert "c" not in set(group_of(con, "a")["contact_id"])


def test_a_shared_number_does_not_group_two_people_whose_names_both_differ(con, add_contact):
    # At a million contacts a number typed one digit off is someone else's number: the names say so.
    add_contact(con, "a", stored=True, first_name="Draloman", last_name="Garcia", city="Millton", phone="+16506265679")
    add_contact(con, "b", stored=True, first_name="Jose", last_name="Thomas", city="Nashville", phone="+16506265679")
    # One person with a typo in the name keeps the number's link, and so does one with the names swapped.
    add_contact(con, "c", stored=True, first_name="Ottoline", last_name="Marston", phone="+14155550188")
    add_contact(con, "d", stored=True, first_name="Otoline", last_name="Marston", phone="+14155550188")
    add_contact(con, "e", stored=True, first_name="Keiko", last_name="Tanabe", phone="+14155550177")
    add_contact(con, "f", stored=True, first_name="Tanabe", last_name="Keiko", phone="+14155550177")
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [{"c", "d"}, {"e", "f"}]
    [(a, b, evidence)] = con.execute("SELECT contact_a, contact_b, evidence FROM duplicate_conflicts").fetchall()
    assert (a, b) == ("a", "b") and "first name: different" in evidence


def test_a_true_group_of_three_stays_together(con, add_contact):
    same = {"first_name": "Ottoline", "last_name": "Quennell", "birthday": date(1980, 3, 2), "city": "Leeds"}
    add_contact(con, "t1", stored=True, email="otto@q.com", **same)
    add_contact(con, "t2", stored=True, email="otto@q.com", phone="+14155550188", **same)
    add_contact(con, "t3", stored=True, phone="+14155550188", **same | {"first_name": "Otoline"})
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [{"t1", "t2", "t3"}]
    members = duplicate_groups(con)
    assert members["linked_to"].is_not_null().all()
    assert set(members["contact_id"]) | set(members["linked_to"]) == {"t1", "t2", "t3"}


def test_a_group_splits_at_a_conflict_strongest_links_first_and_likely_links_stop_at_the_cap():
    pairs = pl.DataFrame(
        {
            "contact_a": ["a", "b", "c", "x", "y"],
            "contact_b": ["b", "c", "d", "y", "z"],
            "kind": ["exact", "likely", "likely", "likely", "likely"],
            "score": [1.0, 0.92, 0.99, 0.95, 0.97],
            "evidence": ["same email", "names", "names", "names", "names"],
        }
    )
    conflicts = pl.DataFrame({"contact_a": ["a"], "contact_b": ["d"]})
    members = group_members(pairs, conflicts)
    groups = dict(members.select("contact_id", "group_id").iter_rows())
    assert groups == {"a": "a", "b": "a", "c": "c", "d": "c", "x": "x", "y": "x", "z": "x"}
    # Each member's reason is its best link inside its group, never the cut one.
    reasons = {row["contact_id"]: (row["linked_to"], row["score"]) for row in members.iter_rows(named=True)}
    assert reasons["b"] == ("a", 1.0) and reasons["c"] == ("d", 0.99)
    assert members.filter(pl.col("group_id") == "a")["weakest_score"].unique().to_list() == [1.0]
    # A cap of 2: likely links no longer grow a group past two.
    capped = group_members(pairs, max_size=2)
    assert sorted(capped.group_by("group_id").len()["len"].to_list()) == [2, 2, 2]


def test_members_of_a_group_past_the_cap_are_scored_for_conflicts_within_a_budget():
    # Thirty contacts chained by a switchboard's exact links: past MAX_GROUP (25), still every unlinked two.
    chain = [f"c{i:02d}" for i in range(30)]
    pairs = pl.DataFrame({"contact_a": chain[:-1], "contact_b": chain[1:]})
    scored = member_pairs(pairs)
    assert scored.height == 30 * 29 // 2 - 29
    assert ("c00", "c29") in set(scored.iter_rows())
    # A budget takes components smallest first while their pairs fit: a trio fits, the thirty do not.
    trio = pl.DataFrame({"contact_a": ["t1", "t2"], "contact_b": ["t2", "t3"]})
    both = pl.concat([pairs, trio])
    assert set(member_pairs(both, budget=100).iter_rows()) == {("t1", "t3")}
    assert member_pairs(both, budget=3 + 435).height == scored.height + 1  # every two members counted


def test_contacts_marked_different_are_not_grouped_through_a_third(con, add_contact):
    add_contact(con, "p", stored=True, first_name="Pia", email="p@q.com")
    add_contact(con, "q", stored=True, first_name="Pia", email="p@q.com", phone="+14155550177")
    add_contact(con, "r", stored=True, first_name="Pia", phone="+14155550177")
    find_duplicates(con, ACTOR)
    assert groups_of(con) == [{"p", "q", "r"}]
    mark_not_duplicates(con, ["p", "r"], ACTOR)
    assert not any({"p", "r"} <= group for group in groups_of(con))


# --- Blocking rules' pair counts ---------------------------------------------------------------------------


def test_a_rules_pairs_stay_within_its_budget_smallest_blocks_first():
    rule = BLOCKING_RULES[0]
    sizes = pl.DataFrame({"n": [2, 3, 5, 70], "blocks": [10, 4, 2, 1]})  # 10 + 12 + 20 pairs, then a block of 70
    assert bounded(rule, sizes, budget=1_000) == BlockingCount(
        rule=rule.label, pairs=42, left_out=70 * 69 // 2, largest_block=5
    )
    assert bounded(rule, sizes, budget=25) == BlockingCount(
        rule=rule.label, pairs=22, left_out=20 + 70 * 69 // 2, largest_block=3
    )
    assert bounded(rule, sizes, budget=5).pairs == 0


def test_each_rules_pair_count_is_bounded_and_reported_in_the_run(con, add_contact, monkeypatch):
    for i in range(6):  # six Ada Quennells: 15 pairs on the name alone
        add_contact(con, f"q{i}", stored=True, first_name="Ada", last_name="Quennell", city=f"Town{i}")
    add_contact(con, "s1", stored=True, first_name="Bo", last_name="Silva", birthday=date(1990, 1, 2))
    add_contact(con, "s2", stored=True, first_name="Bo", last_name="Silva", birthday=date(1990, 1, 2))
    run = find_duplicates(con, ACTOR)
    names = {count.rule: count for count in run.rules}
    assert names["first and last name"].pairs == 16 and names["first and last name"].left_out == 0
    assert names["last name and birthday"].pairs == 1
    assert last_run(con) == run
    monkeypatch.setattr(blocking, "MIN_RULE_BUDGET", 10)  # a budget of 10 pairs: the six-contact block no longer fits
    monkeypatch.setattr(blocking, "PAIRS_PER_CONTACT", 1)
    run = find_duplicates(con, ACTOR)
    names = {count.rule: count for count in run.rules}
    assert names["first and last name"] == BlockingCount(
        rule="first and last name", pairs=1, left_out=15, largest_block=2
    )
    assert not any({"q0", "q1"} <= group for group in groups_of(con, min_score=0.5))


def test_the_same_mailbox_elsewhere_than_at_a_provider_is_found_by_its_lower_case(con, add_contact):
    # Found by its lower-cased, trimmed address, whatever the case it was typed in.
    add_contact(con, "m1", stored=True, email="Ada.Quennell@Example.org")
    add_contact(con, "m2", stored=True, email="ada.quennell@example.org")
    add_contact(con, "m3", stored=True, email="ada.quennell+x@example.org")  # not a provider: another mailbox
    add_contact(con, "m4", stored=True, phone="+14155550142")
    add_contact(con, "m5", stored=True, phone="+14155550142")
    assert same_email_or_phone(con, "m2") == ["m1"]
    assert same_email_or_phone(con, "m4") == ["m5"]
    # No index on contacts' updated columns: DuckDB rewrites a row on every update that changes an indexed column
    # (migration 032). row_key, never updated, is indexed for the search's candidates (039).
    if dialect(con).name == "duckdb":
        indexes = con.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'contacts'").fetchall()
        assert indexes == [("contacts_row_key",)]
