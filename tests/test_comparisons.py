"""Blocking rules and comparison levels: each finds or fires on the pair made for it and not its neighbours,
says its label and weight in the evidence, and generates the SQL it should."""

from datetime import date
from typing import Any

import duckdb
import pytest
from conftest import AddContact

from core.duplicates.blocking import BLOCKING_RULES, BlockingRule, IdentityBlockingRule, candidates_sql
from core.duplicates.comparisons import (
    COMPANY,
    COMPARISONS,
    EMAIL,
    IDENTITY,
    Comparison,
    Level,
    evidence_sql,
    quote,
    unknown,
    weight_sql,
)
from core.duplicates.likely import drop_profile, profile, score_pairs
from core.workspace import define_custom_field, ensure_owner

Fields = dict[str, Any]


@pytest.fixture
def con(fresh_db: duckdb.DuckDBPyConnection, add_contact: AddContact) -> duckdb.DuckDBPyConnection:
    """Six background contacts, every field filled and distinct, so that each frequency has a total of 8 with a pair."""
    ensure_owner(fresh_db, "admin")
    define_custom_field(fresh_db, "customer_number", "Customer number", "text", is_identity=True)
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
        evidence = score_pairs(con, PAIR)["evidence"].item()
    finally:
        drop_profile(con)
    parts = [part.split(": ", 1) for part in (evidence or "").split("; ") if part]
    return {field: level.rsplit(", ", 1)[0] for field, level in parts}


# --- Each level fires on its pair ---------------------------------------------------------------------------

ADA = {"first_name": "Ada", "last_name": "Quennell"}
QUENNELL = {"last_name": "Quennell"}
ADA_ONLY = {"first_name": "Ada"}
JULY_9 = date(1984, 7, 9)
STREET = {"address": "12 Alder Lane"}

# (field, the level's evidence or None when the field is silent, contact a, contact b). With the six background
# contacts each frequency level's u is (holders / 8): an exact first name held by both is log2(0.88 * 8 / 2).
LEVEL_CASES = [
    ("first name", "exact", {"first_name": "Ottoline", **QUENNELL}, {"first_name": "Ottoline", **QUENNELL}),
    (
        "first name",
        "one typo",
        {"first_name": "Marguerite", **QUENNELL},
        {"first_name": "Margeurite", **QUENNELL},
    ),
    ("first name", "similar", {"first_name": "Alison", **QUENNELL}, {"first_name": "Allyson", **QUENNELL}),
    (
        "first name",
        "different",
        {"first_name": "Ottoline", **QUENNELL},
        {"first_name": "Bartholomew", **QUENNELL},
    ),
    ("first name", None, {"first_name": "Ottoline", **QUENNELL}, {**QUENNELL}),
    ("last name", "exact", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Okonkwo", **ADA_ONLY}),
    ("last name", "one typo", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Okonkow", **ADA_ONLY}),
    ("last name", "similar", {"last_name": "Smith", **ADA_ONLY}, {"last_name": "Smyth", **ADA_ONLY}),
    ("last name", "different", {"last_name": "Okonkwo", **ADA_ONLY}, {"last_name": "Fairweather", **ADA_ONLY}),
    ("last name", None, {**ADA_ONLY}, {"last_name": "Okonkwo", **ADA_ONLY}),
    ("birthday", "exact", {"birthday": JULY_9}, {"birthday": JULY_9}),
    ("birthday", "one typo", {"birthday": JULY_9}, {"birthday": date(1984, 7, 19)}),
    ("birthday", "one typo", {"birthday": JULY_9}, {"birthday": date(1984, 9, 7)}),  # day and month swapped
    ("birthday", "different", {"birthday": JULY_9}, {"birthday": date(1991, 2, 23)}),
    ("birthday", None, {"birthday": JULY_9}, {}),
    (
        "address",
        "same street and area",
        {**STREET, "postal_code": "LS6 2AB"},
        {**STREET, "postal_code": "LS62AB"},
    ),
    ("address", "same street", {**STREET, "postal_code": "LS62AB"}, {**STREET, "postal_code": "LS62AX"}),
    (
        "address",
        "same postal code and city",
        {"postal_code": "LS62AB", "city": "Leeds"},
        {"postal_code": "LS62AB", "city": "Leeds"},
    ),
    ("address", "same postal code", {"postal_code": "LS62AB"}, {"postal_code": "LS62AB"}),
    (
        "address",
        "near postal code, same city",  # log2(0.05 * 8 / 2) is below the floor of 0.5
        {"postal_code": "LS62AB", "city": "Leeds"},
        {"postal_code": "LS62AX", "city": "Leeds"},
    ),
    ("address", "same city", {"city": "Leeds"}, {"city": "Leeds"}),  # floored at 0: never worse than unknown
    ("address", "different", {"city": "Leeds"}, {"city": "York"}),
    ("address", None, {}, {"city": "York"}),
    ("state", "different", {"state": "NSW"}, {"state": "VIC"}),
    ("state", None, {"state": "NSW"}, {"state": "NSW"}),
    ("email", "same mailbox", {"email": "Ada.Q@gmail.com"}, {"email": "adaq+news@gmail.com"}),
    ("email", "same name elsewhere", {"email": "ada@example.com"}, {"email": "ada@example.org"}),
    ("email", "one typo", {"email": "adaq@example.com"}, {"email": "adaqq@example.org"}),
    ("email", "different", {"email": "ada@example.com"}, {"email": "quennell@example.org"}),
    ("email", None, {"email": "ada@example.com"}, {}),
    ("phone", "same number", {"phone": "+14155550199"}, {"phone": "+14155550199"}),
    ("phone", "different", {"phone": "+14155550199"}, {"phone": "+14155550100"}),
    ("phone", None, {}, {"phone": "+14155550100"}),
    ("company", "same", {"company": "Acme Ltd"}, {"company": "ACME Ltd."}),
    ("company", "different", {"company": "Acme"}, {"company": "Globex"}),
    ("company", None, {"company": "Acme"}, {}),
    (
        "Customer number",
        "exact",
        {"custom": {"customer_number": "CUS-7"}},
        {"custom": {"customer_number": "cus-7 "}},
    ),
    (
        "Customer number",
        "one typo",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},
    ),
    (
        "Customer number",
        "different",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "CUS-99"}},
    ),
    ("Customer number", None, {"custom": {"customer_number": "CUS-7"}}, {}),
    ("phone", "one digit off", {"phone": "+14155550199"}, {"phone": "+14155550198"}),
]


@pytest.mark.parametrize(("field", "level", "a", "b"), LEVEL_CASES)
def test_each_level_fires_on_its_pair_with_its_label_and_weight(con, add_contact, field, level, a, b):
    evidence = evidence_of(con, add_contact, a, b)
    assert evidence.get(field) == level


def test_swapped_names_read_the_other_way_round(con, add_contact):
    keiko = {"first_name": "Keiko", "last_name": "Tanabe"}
    evidence = evidence_of(con, add_contact, keiko, {"first_name": "Tanabe", "last_name": "Keiko"})
    assert evidence == {"first name": "exact", "last name": "exact", "names": "swapped"}


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Robert", "Bob", "nickname"),
        ("Kate", "Katherine", "nickname"),
        ("Kat", "Katharina", "shortened"),
    ],
)
def test_nicknames_and_short_forms_compare_close(con, add_contact, a, b, level):
    evidence = evidence_of(con, add_contact, {"first_name": a, **QUENNELL}, {"first_name": b, **QUENNELL})
    assert evidence["first name"] == level


def test_the_weight_is_the_sum_the_evidence_shows(con, add_contact):
    a = {**ADA, "birthday": JULY_9, "city": "Leeds", "email": "ada@example.com"}
    b = {**ADA, "birthday": date(1984, 7, 19), "city": "Leeds", "email": "ada@example.org"}
    for contact_id, fields in (("a", a), ("b", b)):
        add_contact(con, contact_id, stored=True, **fields)
    profile(con)
    [(weight, evidence)] = score_pairs(con, PAIR).select("weight", "evidence").rows()
    drop_profile(con)
    assert [part.rsplit(", ", 1)[0] for part in evidence.split("; ")] == [
        "first name: exact",
        "last name: exact",
        "birthday: one typo",
        "address: same city",
        "email: same name elsewhere",
    ]
    shown = sum(float(part.rsplit(", ", 1)[1]) for part in evidence.split("; "))
    assert weight == pytest.approx(shown, abs=0.3)


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
    ("first and last name", {"first_name": "Bob", **QUENNELL}, {"first_name": "Robert", **QUENNELL}, ADA),
    ("sound of the names", ADA, {"first_name": "Adda", "last_name": "Quenel"}, {"first_name": "Bea", **QUENNELL}),
    ("first initial and last name", ADA, {"first_name": "A", **QUENNELL}, {"first_name": "Bea", **QUENNELL}),
    ("last name", {**QUENNELL}, {"first_name": "Zed", **QUENNELL}, {"last_name": "Quenell"}),
    ("first name", ADA_ONLY, {"first_name": "Ada", "last_name": "Zyx"}, {"first_name": "Adah"}),
    (
        "sound of the last name and first initial",
        ADA,
        {"first_name": "Anne", "last_name": "Quenel"},
        {"first_name": "Bea", "last_name": "Quenel"},
    ),
    ("last name and city", {**QUENNELL, "city": "Leeds"}, {**QUENNELL, "city": "leeds"}, {**QUENNELL, "city": "York"}),
    ("first name and city", {**ADA, "city": "Leeds"}, {"first_name": "ada", "city": "Leeds"}, {**ADA, "city": "Ely"}),
    ("email's local part", {"email": "ada.q@a.example"}, {"email": "ada.q@b.example"}, {"email": "ada.r@a.example"}),
    ("last digits of the phone", {"phone": "+14155550199"}, {"phone": "+13125550199"}, {"phone": "+14155550198"}),
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
        "identity value",
        {"custom": {"customer_number": "CUS-00418813"}},
        {"custom": {"customer_number": "cus-00418813"}},
        {"custom": {"customer_number": "CUS-00418831"}},
    ),
    (
        "identity value's characters",
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
    assert {rule.label for rule in BLOCKING_RULES} == {case[0] for case in BLOCKING_CASES}


@pytest.mark.parametrize(("label", "a", "b", "c"), BLOCKING_CASES)
def test_each_blocking_rule_finds_its_pair_and_not_a_near_miss(con, add_contact, label, a, b, c):
    for contact_id, fields in (("a", a), ("b", b), ("c", c)):
        add_contact(con, contact_id, stored=True, **fields)
    rule = next(rule for rule in BLOCKING_RULES if rule.label == label)
    assert ("a", "b") in pairs_found(con, rule.pairs_sql())
    assert ("a", "c") not in pairs_found(con, rule.pairs_sql())


def test_a_key_held_by_too_many_contacts_blocks_nothing(con, add_contact):
    for contact_id in ("a", "b", "c"):
        add_contact(con, contact_id, stored=True, **ADA)
    rule = BLOCKING_RULES[0]
    assert pairs_found(con, rule.pairs_sql(max_block=2)) == []
    assert pairs_found(con, rule.pairs_sql(max_block=3)) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_generated_names_block_nothing(con, add_contact):
    for contact_id in ("a", "b"):
        add_contact(con, contact_id, stored=True, first_name="Brave", last_name="Otter", name_generated=True)
    assert pairs_found(con, candidates_sql(BLOCKING_RULES)) == []  # generated names


def test_candidates_are_each_pair_once_however_many_keys_it_shares(con, add_contact):
    for contact_id in ("a", "b"):
        add_contact(con, contact_id, stored=True, **ADA, birthday=ONE, **PC, custom={"customer_number": "CUS-1"})
    assert [pair[:2] for pair in pairs_found(con, candidates_sql(BLOCKING_RULES))] == [("a", "b")]


# --- The SQL the objects generate ---------------------------------------------------------------------------


def test_a_level_knows_its_weight_and_evidence():
    level = Level("one typo", "s_ln >= 0.92", 0.08, 0.005)
    assert level.weight == pytest.approx(4.0)
    assert (level.weight_sql(), level.evidence_sql()) == ("4.0", "'one typo, +4.0'")
    assert unknown("s_fn", "s_ln") == Level("unknown", "s_fn IS NULL OR s_ln IS NULL", silent=True)
    assert unknown("s_fn").evidence_sql() == "NULL"


def test_a_term_level_adjusts_by_the_share_holding_the_value():
    exact = Level("exact", "s_fn >= 0.999", 0.8, 0.01, term="fn")
    assert exact.weight_sql() == "6.3219 + least(greatest(log2(0.01 / fn_share), -12.0), 12.0)"
    [(rare, common)] = duckdb.execute(
        f"SELECT {exact.weight_sql().replace('fn_share', '0.0001')}, {exact.weight_sql().replace('fn_share', '0.05')}"
    ).fetchall()
    assert rare > exact.weight > common


def test_a_comparison_is_a_case_over_its_level_index():
    assert COMPANY.index_sql() == (
        "CASE WHEN s_company IS NULL THEN 0 WHEN s_company >= 0.95 THEN 1 WHEN TRUE THEN 2 ELSE 3 END"
    )
    assert COMPANY.weight_sql() == "CASE g_company WHEN 1 THEN 2.3219 WHEN 2 THEN -0.848 ELSE 0.0 END"
    assert COMPANY.evidence_sql() == (
        "CASE g_company WHEN 1 THEN 'company: ' || 'same, +2.3' "
        "WHEN 2 THEN 'company: ' || 'different, -0.8' ELSE NULL END"
    )
    assert COMPANY.silent_indexes() == [0, 3]
    learned = COMPANY.with_probabilities([1.0, 0.9, 0.1], [1.0, 0.45, 0.55])
    assert learned.level("same").weight == pytest.approx(1.0) and learned.levels[0] == COMPANY.levels[0]


def test_a_comparison_over_admin_fields_names_the_field_per_row():
    assert "WHEN 0 THEN identity_label || ': ' || 'exact, ' || " in IDENTITY.evidence_sql()


def test_the_pair_weight_and_evidence_join_every_comparison():
    parts = (COMPANY, EMAIL)
    assert weight_sql(parts) == f"{COMPANY.weight_sql()}\n + {EMAIL.weight_sql()}"
    assert evidence_sql(parts) == f"nullif(concat_ws('; ', {COMPANY.evidence_sql()}, {EMAIL.evidence_sql()}), '')"
    assert len({c.column for c in COMPARISONS}) == len(COMPARISONS)
    assert all(isinstance(c, Comparison) for c in COMPARISONS)


def test_blocking_rules_generate_their_pairs_sql():
    rule = BlockingRule("ln || '|' || dob", "last name and birthday")
    sql = rule.pairs_sql(max_block=9)
    key = "ln || '|' || dob"
    assert f"count(*) OVER (PARTITION BY {key}) AS n FROM dup_profile WHERE {key} IS NOT NULL" in sql
    assert "ON k1.k = k2.k AND k1.id < k2.id" in sql and sql.endswith("WHERE k1.n <= 9")
    identity = IdentityBlockingRule("sorted", "identity value's characters").pairs_sql(max_block=9)
    assert "i1.field = i2.field AND i1.sorted = i2.sorted AND i1.id < i2.id" in identity
    assert "bit_or(rule) AS rules" in candidates_sql((rule, rule), 9)


def test_quote_doubles_quotes():
    assert quote("identity value's") == "'identity value''s'"
