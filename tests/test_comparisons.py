"""Blocking rules and comparison levels: each finds or fires on the pair made for it and not its neighbours,
says its label and weight in the evidence, and generates the SQL it should."""

from dataclasses import replace
from datetime import date
from typing import Any

import duckdb
import pytest
from conftest import AddContact

from core.accounts.users import bootstrap_admin
from core.db import frame
from core.duplicates.blocking import (
    BLOCKING_RULES,
    BlockingCount,
    BlockingRule,
    CrossBlockingRule,
    IdentityBlockingRule,
    bounded,
    candidates_sql,
)
from core.duplicates.comparisons import (
    ADDRESS,
    BIRTHDAY,
    COMPANY,
    COMPARISONS,
    EMAIL,
    IDENTITY,
    NAMES,
    NAMES_IN_PLACE,
    PHONE,
    Comparison,
    FrequencyLevel,
    Level,
    Reading,
    Summed,
    blank,
    evidence_sql,
    frequency,
    name_comparison,
    others_holding,
    quote,
    spells,
    unknown,
    weight_sql,
)
from core.duplicates.likely import SPELLINGS, drop_profile, profile, scored_sql
from core.workspace import define_custom_field

Fields = dict[str, Any]


@pytest.fixture
def con(fresh_db: duckdb.DuckDBPyConnection, add_contact: AddContact) -> duckdb.DuckDBPyConnection:
    """Six background contacts, every field filled and distinct, so that each frequency has a total of 8 with a pair."""
    bootstrap_admin(fresh_db)
    define_custom_field(fresh_db, "customer_number", "Customer number", "text", is_identity=True, actor="admin")
    first = ["Quentin", "Rosalind", "Tobias", "Ursula", "Vernon", "Winifred"]
    last = ["Abernathy", "Blackwood", "Castellano", "Drummond", "Eastwood", "Fairbanks"]
    for i in range(6):
        add_contact(
            fresh_db,
            f"bg{i}",
            stored=True,
            custom={"customer_number": f"BG-{i}"},
            first_name=first[i],
            last_name=last[i],
            birthday=date(1950 + i, 1 + i, 1 + i),
            address=f"{i} Quay Street",
            postal_code=f"ZZ{i}",
            city=["Bath", "Ely", "Wells", "Truro", "Derby", "Perth"][i],
            email=f"bg{i}@example.com",
        )
    return fresh_db


PAIR = "SELECT 'a' AS id_a, 'b' AS id_b"


def evidence_of(con: duckdb.DuckDBPyConnection, add_contact: AddContact, a: Fields, b: Fields) -> dict[str, str]:
    """Store contacts a and b, score the pair, and return its evidence as {field: 'level, weight'}."""
    for contact_id, fields in (("a", a), ("b", b)):
        add_contact(con, contact_id, stored=True, **fields)
    profile(con)
    try:
        [(evidence,)] = con.execute(f"SELECT evidence FROM ({scored_sql(PAIR, evidence=True)})").fetchall()
    finally:
        drop_profile(con)
    return dict(part.split(": ", 1) for part in (evidence or "").split("; "))


# --- Each level fires on its pair ---------------------------------------------------------------------------

ADA = {"first_name": "Ada", "last_name": "Quennell"}
QUENNELL = {"last_name": "Quennell"}
ADA_ONLY = {"first_name": "Ada"}
JULY_9 = date(1984, 7, 9)
STREET = {"address": "12 Alder Lane"}

# (field, the level's evidence or None when the field is silent, contact a, contact b). With the six background
# contacts each frequency level's u is (holders / 8), names counting their holders but the contact itself: an
# exact first name held by both is log2(0.88 * 8 / 1), an exact birthday log2(0.9 * 8 / 2).
LEVEL_CASES = [
    ("first name", "exact, +2.8", {"first_name": "Ottoline", **QUENNELL}, {"first_name": "Ottoline", **QUENNELL}),
    (
        "first name",
        "one typo, +4.7",
        {"first_name": "Marguerite", **QUENNELL},
        {"first_name": "Margeurite", **QUENNELL},
    ),
    ("first name", "similar, +0.6", {"first_name": "Ottoline", **QUENNELL}, {"first_name": "Ottilie", **QUENNELL}),
    ("first name", "nickname, +3.5", {"first_name": "Bob", **QUENNELL}, {"first_name": "Robert", **QUENNELL}),
    ("first name", "nickname, +3.5", {"first_name": "Kate", **QUENNELL}, {"first_name": "Katherine", **QUENNELL}),
    ("first name", "nickname, +3.5", {"first_name": "Steven", **QUENNELL}, {"first_name": "Stephen", **QUENNELL}),
    ("first name", "cut short, +2.0", {"first_name": "Sar", **QUENNELL}, {"first_name": "Sarah", **QUENNELL}),
    ("first name", "cut short, +2.0", {"first_name": "J", **QUENNELL}, {"first_name": "Jonathan", **QUENNELL}),
    (
        "first name",
        "different, -3.3",
        {"first_name": "Ottoline", **QUENNELL},
        {"first_name": "Bartholomew", **QUENNELL},
    ),
    ("first name", None, {"first_name": "Ottoline", **QUENNELL}, {**QUENNELL}),
    ("last name", "exact, +2.8", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Okonkwo", **ADA_ONLY}),
    ("last name", "one typo, +4.7", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Okonkow", **ADA_ONLY}),
    ("last name", "similar, +0.6", {"last_name": "Smith", **ADA_ONLY}, {"last_name": "Smyth", **ADA_ONLY}),
    ("last name", "different, -3.3", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Fairweather", **ADA_ONLY}),
    ("last name", None, {**ADA_ONLY}, {"last_name": "Okonkwo", **ADA_ONLY}),
    ("birthday", "exact, +1.8", {"birthday": JULY_9}, {"birthday": JULY_9}),
    ("birthday", "one typo, +4.5", {"birthday": JULY_9}, {"birthday": date(1984, 7, 19)}),
    ("birthday", "one typo, +4.5", {"birthday": JULY_9}, {"birthday": date(1984, 9, 7)}),  # day and month swapped
    ("birthday", "different, -3.5", {"birthday": JULY_9}, {"birthday": date(1991, 2, 23)}),
    ("birthday", None, {"birthday": JULY_9}, {}),
    (
        "address",
        "same street and area, +1.6",
        {**STREET, "postal_code": "LS6 2AB"},
        {**STREET, "postal_code": "LS62AB"},
    ),
    ("address", "same street, -1.3", {**STREET, "postal_code": "LS62AB"}, {**STREET, "postal_code": "LS62AX"}),
    (
        "address",
        "same postal code and city, -1.6",
        {"postal_code": "LS62AB", "city": "Leeds"},
        {"postal_code": "LS62AB", "city": "Leeds"},
    ),
    ("address", "same postal code, -3.1", {"postal_code": "LS62AB"}, {"postal_code": "LS62AB"}),
    (
        "address",
        "near postal code, same city, +0.5",  # log2(0.05 * 8 / 2) is below the floor of 0.5
        {"postal_code": "LS62AB", "city": "Leeds"},
        {"postal_code": "LS62AX", "city": "Leeds"},
    ),
    ("address", "same city, +0.0", {"city": "Leeds"}, {"city": "Leeds"}),  # floored at 0: never worse than unknown
    ("address", "different, -4.2", {"city": "Leeds"}, {"city": "York"}),
    ("address", None, {}, {"city": "York"}),
    ("state", "different, -2.0", {"state": "NSW"}, {"state": "VIC"}),
    ("state", None, {"state": "NSW"}, {"state": "NSW"}),
    ("email", "same mailbox, +2.8", {"email": "Ada.Q@gmail.com"}, {"email": "adaq+news@gmail.com"}),
    ("email", "different, -1.0", {"email": "ada@example.com"}, {"email": "ada@example.org"}),
    ("email", None, {"email": "ada@example.com"}, {}),
    ("phone", "same number, +2.8", {"phone": "+14155550199"}, {"phone": "+14155550199"}),
    ("phone", "one digit off, +5.0", {"phone": "+14155550199"}, {"phone": "+14155550189"}),
    ("phone", "one digit off, +5.0", {"phone": "+14155550199"}, {"phone": "+14155550919"}),  # neighbours swapped
    ("phone", "different, -1.0", {"phone": "+14155550199"}, {"phone": "+14155550100"}),
    ("phone", None, {}, {"phone": "+14155550100"}),
    ("company", "same, +2.0", {"company": "Acme Ltd"}, {"company": "ACME Ltd."}),
    ("company", "different, -0.5", {"company": "Acme"}, {"company": "Globex"}),
    ("company", None, {"company": "Acme"}, {}),
    (
        "Customer number",
        "exact, +1.8",
        {"custom": {"customer_number": "CUS-7"}},
        {"custom": {"customer_number": "cus-7 "}},
    ),
    (
        "Customer number",
        "one typo, +7.0",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},
    ),
    (
        "Customer number",
        "different, -3.0",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "CUS-99"}},
    ),
    ("Customer number", None, {"custom": {"customer_number": "CUS-7"}}, {}),
    ("names alone", "nothing else agrees, -4.0", ADA, ADA),
    ("names alone", None, {**ADA, "city": "Leeds"}, {**ADA, "city": "Leeds"}),
    ("names alone", None, {**ADA, "birthday": JULY_9}, {**ADA, "birthday": date(1984, 7, 19)}),
]


@pytest.mark.parametrize(("field", "level", "a", "b"), LEVEL_CASES)
def test_each_level_fires_on_its_pair_with_its_label_and_weight(con, add_contact, field, level, a, b):
    evidence = evidence_of(con, add_contact, a, b)
    assert evidence.get(field) == level


def test_swapped_names_read_the_other_way_round_at_a_cost(con, add_contact):
    keiko = {"first_name": "Keiko", "last_name": "Tanabe"}
    evidence = evidence_of(con, add_contact, keiko, {"first_name": "Tanabe", "last_name": "Keiko"})
    assert evidence == {
        "first name as last name": "exact, +2.8",
        "last name as first name": "exact, +2.8",
        "names": "swapped, -1.0",
        "names alone": "nothing else agrees, -4.0",
    }


def test_the_weight_is_the_sum_the_evidence_shows(con, add_contact):
    a = {**ADA, "birthday": JULY_9, "city": "Leeds", "email": "ada@example.com"}
    b = {**ADA, "birthday": date(1984, 7, 19), "city": "Leeds", "email": "ada@example.org"}
    for contact_id, fields in (("a", a), ("b", b)):
        add_contact(con, contact_id, stored=True, **fields)
    profile(con)
    [(weight, evidence)] = con.execute(f"SELECT weight, evidence FROM ({scored_sql(PAIR, evidence=True)})").fetchall()
    drop_profile(con)
    assert evidence == (
        "first name: exact, +2.8; last name: exact, +2.8; birthday: one typo, +4.5; "
        "address: same city, +0.0; email: different, -1.0"
    )
    shown = sum(float(part.rsplit(", ", 1)[1]) for part in evidence.split("; "))
    assert weight == pytest.approx(shown, abs=0.2)


@pytest.mark.parametrize(
    ("similarity", "weight"),
    [(None, 0.0), (1.0, "exact"), (0.999, "exact"), (0.95, 4.7), (0.92, 4.7), (0.9, 0.6), (0.85, 0.6), (0.84, -3.3)],
)
def test_name_levels_meet_at_their_thresholds(similarity, weight):
    comparison = name_comparison("first name", "s", "fn")
    sql = f"SELECT {comparison.weight_sql()} FROM (SELECT ?::DOUBLE AS s, 4 AS fn_n, {{'fn_total': 8}} AS t)"
    [(found,)] = duckdb.execute(sql, [similarity]).fetchall()
    # A name 4 contacts hold: 3 others than this one, log2(0.88 * 8 / 3).
    assert found == pytest.approx(1.2306129 if weight == "exact" else weight)


# --- Each blocking rule finds its pair ----------------------------------------------------------------------

ONE = date(1984, 7, 9)
PC = {"postal_code": "LS6 2AB"}

# (rule label, a and b share the key, c differs from a in one part of it).
BLOCKING_CASES = [
    ("first and last name", ADA, ADA, {**ADA, "last_name": "Quenell"}),
    (
        "names either way round",
        ADA,
        {"first_name": "Quennell", "last_name": "Ada"},
        {"first_name": "Quennell", "last_name": "Adah"},
    ),
    ("last name and birthday", {**ADA, "birthday": ONE}, {"last_name": "Quennell", "birthday": ONE}, {**ADA}),
    ("first name and birthday", {**ADA, "birthday": ONE}, {"first_name": "Ada", "birthday": ONE}, {"first_name": "Ad"}),
    ("birthday and postal code", {"birthday": ONE, **PC}, {"birthday": ONE, **PC}, {"birthday": ONE}),
    ("birthday and state", {"birthday": ONE, "state": "NSW"}, {"birthday": ONE, "state": "nsw"}, {"state": "NSW"}),
    ("last name and postal code", {**ADA, **PC}, {"last_name": "Quennell", **PC}, {"last_name": "Quennell"}),
    ("first name and postal code", {**ADA, **PC}, {"first_name": "Ada", **PC}, {"first_name": "Adah", **PC}),
    (
        "last name, city and first initial",
        {**ADA, "city": "Leeds"},
        {"first_name": "Agnes", "last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Bea", "last_name": "Quennell", "city": "Leeds"},
    ),
    (
        "address and postal code",
        {**STREET, **PC},
        {"address": "12 alder lane", **PC},
        {"address": "14 Alder Lane", **PC},
    ),
    (
        "postal code and start of address",
        {**STREET, **PC},
        {"address": "12 Alder Ln", **PC},
        {**STREET, "postal_code": "YO1 7HH"},
    ),
    (
        "starts of names and postal code",
        {**ADA, **PC},
        {"first_name": "Adam", "last_name": "Quenby", "postal_code": "LS99ZZ"},
        {**ADA, "postal_code": "YO1 7HH"},
    ),
    (
        "usual first name and last name",
        {"first_name": "Bob", "last_name": "Quennell"},
        {"first_name": "Robert", "last_name": "Quennell"},
        {"first_name": "Rupert", "last_name": "Quennell"},
    ),
    (
        "last name and first initial",
        {"first_name": "Katherine", "last_name": "Quennell"},
        {"first_name": "Kate", "last_name": "quennell"},
        {"first_name": "Ada", "last_name": "Quennell"},
    ),
    (
        "first name and start of last name",
        {"first_name": "Ottoline", "last_name": "Quennell"},
        {"first_name": "Ottoline", "last_name": "Queneau"},
        {"first_name": "Ottoline", "last_name": "Quinn"},
    ),
    (
        "last name and city",
        {"first_name": "Jon", "last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Johnny", "last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Jon", "last_name": "Quennell", "city": "York"},
    ),
    (
        "first name and city",
        {"first_name": "Ottoline", "last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Kwenell", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Quennell", "city": "York"},
    ),
    (
        "mailbox name",
        {"email": "ada.quennell@gmail.com"},
        {"email": "ada.quennell@work.example.com"},
        {"email": "ada.quenell@gmail.com"},
    ),
    (
        "last name and city, few holders",
        {"last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Quennell", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Quennell", "city": "York"},
    ),
    (
        "first name and city, few holders",
        {"first_name": "Ottoline", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Kwenell", "city": "Leeds"},
        {"first_name": "Ottoline", "last_name": "Kwenell", "city": "York"},
    ),
    (
        "mailbox name without digits",
        {"email": "ada.quennell82@gmail.com"},
        {"email": "adaquennell@yahoo.com"},
        {"email": "ada.quenell82@gmail.com"},
    ),
    (
        "initials and number but its last four digits",
        {"first_name": "Ada", "last_name": "Quennell", "phone": "+14155550177"},
        {"first_name": "Adah", "last_name": "Quenel", "phone": "+14155550178"},
        {"first_name": "Bo", "last_name": "Quennell", "phone": "+14155550177"},
    ),
    (
        "initials and last four digits of the number",
        {"first_name": "Ada", "last_name": "Quennell", "phone": "+14155550177"},
        {"first_name": "Adah", "last_name": "Quenel", "phone": "+14165550177"},
        {"first_name": "Ada", "last_name": "Quennell", "phone": "+14155550178"},
    ),
    (
        "mailbox letters against names",
        {"first_name": "Otoline", "last_name": "Quenell", "email": "ottoline.quennell82@gmail.com"},
        {"first_name": "Ottoline", "last_name": "Quennell"},
        {"first_name": "Ottoline", "last_name": "Quennel", "email": "ottoline.quennel@yahoo.com"},  # names
    ),
    (
        "identity value",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "cus-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},
    ),
    (
        "identity value, neighbours swapped in its first half",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "UCS-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},  # swapped elsewhere: the other rule's pair
    ),
    (
        "identity value, neighbours swapped in its second half",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},
        {"custom": {"customer_number": "CUS-00418814"}},
    ),
]


def pairs_found(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    """The pairs a candidate query finds among the contacts stored, profiled first."""
    profile(con)
    try:
        return sorted(con.execute(sql).fetchall())
    finally:
        drop_profile(con)


def test_every_blocking_rule_has_a_case():
    assert sorted(rule.label for rule in BLOCKING_RULES) == sorted(case[0] for case in BLOCKING_CASES)


@pytest.mark.parametrize(("label", "a", "b", "c"), BLOCKING_CASES)
def test_each_blocking_rule_finds_its_pair_and_not_a_near_miss(con, add_contact, label, a, b, c):
    for contact_id, fields in (("a", a), ("b", b), ("c", c)):
        add_contact(con, contact_id, stored=True, **fields)
    rule = next(rule for rule in BLOCKING_RULES if rule.label == label)
    assert pairs_found(con, rule.pairs_sql()) == [("a", "b")]


def test_a_key_held_by_too_many_contacts_blocks_nothing(con, add_contact):
    for contact_id in ("a", "b", "c"):
        add_contact(con, contact_id, stored=True, **ADA)
    rule = BLOCKING_RULES[0]
    assert pairs_found(con, rule.pairs_sql(max_block=2)) == []
    assert pairs_found(con, rule.pairs_sql(max_block=3)) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_mailbox_letters_meet_names_not_other_mailboxes_nor_names_and_their_count_is_the_pairs(con, add_contact):
    rule = next(rule for rule in BLOCKING_RULES if rule.label == "mailbox letters against names")
    assert isinstance(rule, CrossBlockingRule)
    add_contact(con, "a", stored=True, first_name="Ada", last_name="Quenell", email="ada.quennell@gmail.com")
    add_contact(con, "b", stored=True, first_name="Adah", last_name="Quennell", email="quennell.ada7@yahoo.com")
    add_contact(con, "c", stored=True, first_name="Ada", last_name="Quennell", email="ada.quennell@outlook.com")
    add_contact(con, "d", stored=True, first_name="Ada", last_name="Quennell")
    # a's and b's mailboxes spell names other than theirs; c's spells its own (no key: it meets what the rules on
    # names and mailboxes meet); d has none. Mailboxes meet names: a-c, a-d, b-c, b-d; a-b (two mailboxes) and
    # c-d (two names) are other rules' pairs.
    expected = [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")]
    assert pairs_found(con, rule.pairs_sql()) == expected
    assert pairs_found(con, candidates_sql((rule,))) == expected
    profile(con)
    try:
        sizes = frame(con, rule.block_sizes_sql())
    finally:
        drop_profile(con)
    # Key 'adaquennell': a's mailbox, c's and d's names: 2 pairs; key 'quennellada': b's mailbox, c's and d's names
    # last first: 2 pairs. The fixture's background contacts' mailboxes (bg0@...) meet no names.
    assert sorted(sizes.rows()) == [(3, 2, 4)]
    assert bounded(rule, sizes, budget=100) == BlockingCount(rule=rule.label, pairs=4, left_out=0, largest_block=3)
    assert pairs_found(con, rule.pairs_sql(max_block=2)) == []


def test_generated_names_block_nothing(con, add_contact):
    for contact_id in ("a", "b"):
        add_contact(con, contact_id, stored=True, first_name="Brave", last_name="Otter", name_generated=True)
    assert pairs_found(con, candidates_sql(BLOCKING_RULES)) == []


def test_candidates_are_each_pair_once_however_many_keys_it_shares(con, add_contact):
    for contact_id in ("a", "b"):
        add_contact(con, contact_id, stored=True, **ADA, birthday=ONE, **PC, custom={"customer_number": "CUS-1"})
    assert pairs_found(con, candidates_sql(BLOCKING_RULES)) == [("a", "b")]


# --- The SQL the objects generate ---------------------------------------------------------------------------


def test_a_level_knows_its_weight_and_evidence():
    level = Level("one typo", "s_ln >= 0.92", 4.7)
    assert (level.weight_sql(), level.evidence_sql()) == ("4.7", "'one typo, +4.7'")
    assert Level("different", "TRUE", -3.3).evidence_sql() == "'different, -3.3'"
    assert unknown("s_fn", "s_ln") == Level("unknown", "s_fn IS NULL OR s_ln IS NULL", 0.0, silent=True)
    assert unknown("s_fn").evidence_sql() == "NULL"


def test_a_blank_level_weighs_what_the_data_says_and_says_nothing_when_that_is_nothing():
    level = blank("same_ek IS NULL")
    assert (level.label, level.weight, level.silent) == ("blank", 0.0, False)  # spoken: learning sets it
    assert level.evidence_sql() == "NULL"
    assert replace(level, weight=0.64).evidence_sql() == "'blank, +0.6'"
    assert replace(level, weight=-1.29).evidence_sql() == "'blank, -1.3'"
    assert replace(level, weight=0.04).evidence_sql() == "NULL"
    assert [c.levels[-1] for c in (EMAIL, PHONE, ADDRESS)] == [
        blank("same_ek IS NULL"),
        blank("same_ph IS NULL"),
        blank("TRUE"),
    ]
    assert BIRTHDAY.levels[0] == blank("s_dob IS NULL")


def test_a_name_counts_its_holders_but_the_contact_itself():
    assert others_holding("fn") == "(fn_n - (fn_n > 1)::INT)"
    assert others_holding("ln", "_b") == "(ln_n_b - (ln_n_b > 1)::INT)"
    assert others_holding("city") == "city_n"
    sql = f"SELECT {others_holding('fn')} FROM (SELECT unnest([NULL, 1, 2, 5]) AS fn_n)"
    assert duckdb.execute(sql).fetchall() == [(None,), (1,), (1,), (4,)]


def test_a_frequency_level_weighs_by_the_share_holding_the_value():
    exact = frequency("fn", "exact", "s_fn >= 0.999", 0.88)
    # A name's other holders than the contact itself (others_holding).
    others = "(fn_n - (fn_n > 1)::INT)"
    assert exact == FrequencyLevel("exact", "s_fn >= 0.999", 0.88, "t.fn_total", others)
    assert exact.weight_sql() == f"log2(0.88 * t.fn_total / {others})"
    assert exact.evidence_sql() == f"'exact, ' || printf('%+.1f', log2(0.88 * t.fn_total / {others}))"
    floored = frequency("city", "same city", "s_city >= 0.9", 0.02, floor=0.0)
    assert floored.weight_sql() == "greatest(log2(0.02 * t.city_total / city_n), 0.0)"
    assert EMAIL.levels[0].weight_sql() == "log2(0.9 * t.n)"  # one mailbox, one contact


def test_a_comparison_is_a_case_over_its_levels_in_order():
    assert COMPANY.weight_sql() == (
        "CASE WHEN s_company >= 0.95 THEN 2.0 WHEN s_company IS NOT NULL THEN -0.5 ELSE 0.0 END"
    )
    assert COMPANY.evidence_sql() == (
        "CASE WHEN s_company >= 0.95 THEN 'company: ' || 'same, +2.0' "
        "WHEN s_company IS NOT NULL THEN 'company: ' || 'different, -0.5' ELSE NULL END"
    )
    silent_first = Comparison("x", (unknown("s"), Level("equal", "s = 1", 1.0)))
    assert silent_first.evidence_sql() == (
        "CASE WHEN s IS NULL THEN NULL WHEN s = 1 THEN 'x: ' || 'equal, +1.0' ELSE NULL END"
    )
    assert COMPANY.level("different").weight == -0.5


def test_a_comparison_over_admin_fields_names_the_field_per_row():
    assert IDENTITY.evidence_sql().startswith("CASE WHEN a.value = b.value THEN a.label || ': ' || 'exact, ' || ")


def test_a_reading_adds_its_own_weight_and_the_best_reading_wins():
    x = Comparison("x", (Level("equal", "s = 1", 1.0),))
    y = Comparison("y", (Level("equal", "t = 1", 2.0),))
    swapped = Reading((x,), field="names", label="swapped", weight=-1.0)
    assert swapped.weight_sql() == "CASE WHEN s = 1 THEN 1.0 ELSE 0.0 END - 1.0"
    assert swapped.evidence_sql() == (
        "nullif(concat_ws('; ', CASE WHEN s = 1 THEN 'x: ' || 'equal, +1.0' ELSE NULL END, 'names: swapped, -1.0'), '')"
    )
    assert Reading((x, y)).weight_sql() == (
        "CASE WHEN s = 1 THEN 1.0 ELSE 0.0 END + CASE WHEN t = 1 THEN 2.0 ELSE 0.0 END"
    )
    assert NAMES.weight_sql().startswith("greatest(CASE WHEN s_fn IS NULL THEN 0.0 WHEN s_fn >= 0.999 THEN ")
    assert NAMES.weight_sql().endswith(" ELSE 0.0 END - 1.0)")


def test_the_pair_weight_and_evidence_join_every_part():
    parts = (COMPANY, Summed("i.weight", "i.evidence"))
    assert weight_sql(parts) == f"{COMPANY.weight_sql()}\n + coalesce(i.weight, 0.0)"
    assert evidence_sql(parts) == f"nullif(concat_ws('; ', {COMPANY.evidence_sql()}, i.evidence), '')"
    assert [type(part).__name__ for part in COMPARISONS][:2] == ["BestReading", "Comparison"]


def test_blocking_rules_generate_their_pairs_sql():
    rule = BlockingRule("ln || '|' || dob", "last name and birthday")
    sql = rule.pairs_sql(max_block=9)
    key = "ln || '|' || dob"
    assert f"count(*) OVER (PARTITION BY {key}) AS n FROM dup_profile WHERE {key} IS NOT NULL" in sql
    assert "ON k1.k = k2.k AND k1.id < k2.id" in sql and sql.endswith("WHERE k1.n <= 9")
    by_identity = IdentityBlockingRule("swapped_second", "identity value, neighbours swapped in its second half")
    identity = by_identity.pairs_sql(max_block=9)
    assert "i1.field = i2.field AND i1.swapped_second = i2.swapped_second AND i1.id < i2.id" in identity
    # The profile's rules are read in one scan of dup_profile; identity rules keep their own pairs.
    candidates = candidates_sql((rule, BLOCKING_RULES[0], by_identity), 9)
    assert candidates.count("FROM dup_profile") == 1 and candidates.endswith(f"\nUNION\n{identity}")
    assert f"unnest([{rule.key}, {BLOCKING_RULES[0].key}])" in candidates and "BETWEEN 2 AND [9, 9]" in candidates


def test_quote_doubles_quotes():
    assert quote("identity value's") == "'identity value''s'"


def test_a_rule_for_learning_only_finds_no_candidates_and_a_loose_key_blocks_only_few(con, add_contact):
    for contact_id, first in (("a", "Jon"), ("b", "Johnny")):
        add_contact(con, contact_id, stored=True, first_name=first, last_name="Quennell", city="Leeds")
    town = next(rule for rule in BLOCKING_RULES if rule.label == "last name and city")
    assert not town.predicts
    assert pairs_found(con, town.pairs_sql()) == [("a", "b")]
    assert "ln || '|' || city" not in candidates_sql((town, BLOCKING_RULES[0]))
    initial = next(rule for rule in BLOCKING_RULES if rule.label == "last name and first initial")
    assert initial.max_block < BLOCKING_RULES[0].max_block


# --- Names read from a mailbox, names common in one city -------------------------------------------------------


@pytest.mark.parametrize(
    ("mailbox", "first", "last", "spelled"),
    [
        ("johnsmith", "john", "smith", True),  # john.smith@, john_smith@, johnsmith77@ (letters only)
        ("smithjohn", "john", "smith", True),  # smith.john@
        ("jsmith", "john", "smith", False),  # an initial says less than the holder's own first name
        ("johnsmithers", "john", "smith", False),  # only starts with the names: another name
        ("markhunt", "mark", "hunter", False),
        ("josmith", "jo", "smith", False),  # a name under 3 letters spells nothing
        ("johnsmith", None, "smith", False),
        (None, "john", "smith", False),
    ],
)
def test_a_mailbox_spells_a_contacts_names_only_when_it_is_exactly_them(mailbox, first, last, spelled):
    hashed = ", ".join(f"{sql} AS {name}" for name, sql in SPELLINGS.items())
    holder = f"SELECT {hashed} FROM (SELECT NULL::VARCHAR AS fn, NULL::VARCHAR AS ln, ? || '@example.com' AS ek)"
    named = f"SELECT {hashed} FROM (SELECT ?::VARCHAR AS fn, ?::VARCHAR AS ln, NULL::VARCHAR AS ek)"
    sql = f"SELECT {spells('a.eh', 'b')} FROM ({holder}) a CROSS JOIN ({named}) b"
    con = duckdb.connect()
    assert con.execute(sql, [mailbox, first, last]).fetchall() == [(spelled,)]


def test_names_typed_wrong_are_read_from_the_other_contacts_mailbox(con, add_contact):
    # The first name left out: the typed names say only "last name exact" (log2(0.88 * 8 / 1)); the mailbox
    # says Ada Okonkwo, weighed by the commoner of the two contacts' names, each counting its holders but the
    # contact itself (one Ada, one other Okonkwo): log2(0.77 / (1/7 * 1/8)).
    evidence = evidence_of(
        con,
        add_contact,
        {"last_name": "Okonkwo", "email": "ada.okonkwo77@example.com"},
        {"first_name": "Ada", "last_name": "Okonkwo"},
    )
    assert evidence["names in the mailbox"] == "the other's first and last name, +5.4"
    assert evidence["names"] == "read from a mailbox, -1.0"
    assert "last name" not in evidence


def test_a_mailbox_that_only_starts_with_the_names_reads_nothing(con, add_contact):
    evidence = evidence_of(
        con,
        add_contact,
        {"first_name": "Mark", "last_name": "Hunt", "email": "mark.hunt@example.com"},
        {"first_name": "Mark", "last_name": "Hunter", "email": "markhunter@example.com"},
    )
    assert "names in the mailbox" not in evidence and evidence["last name"] == "one typo, +4.7"


@pytest.mark.parametrize(
    ("same_city", "s_fn", "s_ln", "mail_names", "weight", "evidence"),
    [
        (True, 1.0, 1.0, False, -3.0, "names in one city: common there, -3.0"),
        (True, 1.0, 0.8, False, -1.0, "names in one city: common there, -1.0"),
        (True, 0.5, 0.5, True, -3.0, "names in one city: common there, -3.0"),  # the names read from a mailbox
        (False, 1.0, 1.0, False, 0.0, None),
        (None, 1.0, 1.0, False, 0.0, None),  # a city unknown
        (True, 0.5, 0.5, False, 0.0, None),
    ],
)
def test_names_agreeing_in_one_city_lose_their_place_lift(same_city, s_fn, s_ln, mail_names, weight, evidence):
    # The first name's lift is 1 bit on one contact (0 on the other, whose name is not held there), the last
    # name's 2: the greater counts.
    pair = """SELECT ?::BOOLEAN AS same_city, ?::DOUBLE AS s_fn, ?::DOUBLE AS s_ln, ?::BOOLEAN AS mail_names,
                      1.0 AS fn_lift, 0.0 AS fn_lift_b, 2.0 AS ln_lift, 2.0 AS ln_lift_b"""
    sql = f"SELECT {NAMES_IN_PLACE.weight_sql()}, {NAMES_IN_PLACE.evidence_sql()} FROM ({pair})"
    assert duckdb.connect().execute(sql, [same_city, s_fn, s_ln, mail_names]).fetchall() == [(weight, evidence)]


def test_scoring_by_row_number_finds_and_weighs_the_pairs_by_id(con, add_contact):
    """Detection holds its candidates as the profile's integer rid, numbered in ID order: the same pairs, each
    the same way round, with the same weights and evidence as by ID."""
    for contact_id, first in (("zz", "Ada"), ("a", "Adah"), ("m", "Ada")):
        fields = {**ADA, "first_name": first}
        add_contact(con, contact_id, stored=True, **fields, birthday=ONE, **PC, custom={"customer_number": "CUS-1"})
    profile(con)
    try:
        by_id = candidates_sql(BLOCKING_RULES)
        by_rid = candidates_sql(BLOCKING_RULES, key="rid")
        named = f"""SELECT a.id, b.id FROM ({by_rid}) p
                    JOIN dup_profile a ON a.rid = p.id_a JOIN dup_profile b ON b.rid = p.id_b"""
        pairs = sorted(con.execute(by_id).fetchall())
        assert ("a", "m") in pairs and ("m", "zz") in pairs
        assert sorted(con.execute(named).fetchall()) == pairs
        scored = sorted(con.execute(f"SELECT * FROM ({scored_sql(by_id, True)})").fetchall())
        assert sorted(con.execute(f"SELECT * FROM ({scored_sql(by_rid, True, key='rid')})").fetchall()) == scored
        weights = sorted(con.execute(f"SELECT * FROM ({scored_sql(by_rid, key='rid', ids=False)})").fetchall())
        assert [weight for *_, weight in weights] == [weight for _, _, weight, _ in sorted(scored)]
    finally:
        drop_profile(con)
