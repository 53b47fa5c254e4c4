"""Likely pairs: contacts that are probably one person although no email or phone says so.

Blocking first: contacts are compared only when they share one of several compound keys (names with
birthday, postal code and so on; an identity field's value), so a typo in one field still leaves other
keys to meet on. Each candidate pair is then scored Fellegi-Sunter style: every field adds log2(m / u),
how often the same person shows that level of agreement (exact, a typo away, different) against how
often two strangers do. For an exact match u is the share of contacts holding that value, so a shared
rare name counts for more than a shared common one. The sum plus the prior odds becomes a probability.
"""

import math

import duckdb
import polars as pl

from core.db import frame, scalar
from core.duplicates.keys import install_macros

# A key shared by more contacts than this says little: skip it, the other keys still meet.
MAX_BLOCK = 60
# Likely pairs scoring below this are not kept at all.
SCORE_FLOOR = 0.5
# Expected duplicates per contact before the data says otherwise: two random contacts of N are one person
# with odds about this / N. The fitted rate stays within MIN_RATE and MAX_RATE.
DUPLICATE_RATE, MIN_RATE, MAX_RATE = 0.1, 0.01, 2.0


def _clean(column: str) -> str:
    """Lower-case letters and digits only: accents, punctuation and spaces do not tell people apart."""
    return f"nullif(regexp_replace(lower(strip_accents(trim({column}))), '[^a-z0-9]', '', 'g'), '')"


def _words(column: str) -> str:
    """Lower-case words separated by single spaces."""
    return f"nullif(trim(regexp_replace(lower(strip_accents({column})), '[^a-z0-9]+', ' ', 'g')), '')"


# Generated names ("Brave Otter") are not a person's name: they never count as evidence.
PROFILE_SQL = f"""
CREATE OR REPLACE TEMP TABLE dup_base AS
SELECT contact_id AS id,
       CASE WHEN NOT name_generated THEN {_clean("first_name")} END AS fn,
       CASE WHEN NOT name_generated THEN {_clean("last_name")} END AS ln,
       strftime(birthday, '%Y%m%d') AS dob,
       {_clean("postal_code")} AS pc,
       {_clean("city")} AS city,
       {_words("address")} AS addr,
       {_clean("state")} AS st,
       {_clean("company")} AS company,
       dup_email_key(email) AS ek,
       phone AS ph
FROM contacts;
CREATE OR REPLACE TEMP TABLE dup_profile AS
SELECT b.*, array_to_string(list_sort(string_split(b.addr, ' ')), ' ') AS addr_sorted,
       fn.n AS fn_n, ln.n AS ln_n, dob.n AS dob_n, pc.n AS pc_n, city.n AS city_n, addr.n AS addr_n
FROM dup_base b
LEFT JOIN (SELECT fn, count(*) AS n FROM dup_base WHERE fn IS NOT NULL GROUP BY fn) fn USING (fn)
LEFT JOIN (SELECT ln, count(*) AS n FROM dup_base WHERE ln IS NOT NULL GROUP BY ln) ln USING (ln)
LEFT JOIN (SELECT dob, count(*) AS n FROM dup_base WHERE dob IS NOT NULL GROUP BY dob) dob USING (dob)
LEFT JOIN (SELECT pc, count(*) AS n FROM dup_base WHERE pc IS NOT NULL GROUP BY pc) pc USING (pc)
LEFT JOIN (SELECT city, count(*) AS n FROM dup_base WHERE city IS NOT NULL GROUP BY city) city USING (city)
LEFT JOIN (SELECT addr, count(*) AS n FROM dup_base WHERE addr IS NOT NULL GROUP BY addr) addr USING (addr);
CREATE OR REPLACE TEMP TABLE dup_totals AS
SELECT count(*) AS n, count(fn) AS fn_total, count(ln) AS ln_total, count(dob) AS dob_total,
       count(pc) AS pc_total, count(city) AS city_total, count(addr) AS addr_total
FROM dup_base;
DROP TABLE dup_base;
"""

IDENTITY_SQL = """
CREATE OR REPLACE TEMP TABLE dup_identity AS
SELECT *, count(*) OVER (PARTITION BY field, value) AS n, count(*) OVER (PARTITION BY field) AS total FROM (
    SELECT v.contact_id AS id, v.field_key AS field, f.label, lower(trim(v.value)) AS value,
           array_to_string(list_sort(string_split(lower(trim(v.value)), '')), '') AS sorted
    FROM custom_values v JOIN custom_fields f ON f.key = v.field_key AND f.is_identity
    WHERE trim(v.value) <> ''
)
"""

# Compound blocking keys: two contacts become a candidate pair when any one of these is equal.
BLOCKING_KEYS = (
    "fn || '|' || ln",
    "least(fn, ln) || '|' || greatest(fn, ln)",
    "ln || '|' || dob",
    "fn || '|' || dob",
    "dob || '|' || pc",
    "dob || '|' || st",
    "ln || '|' || pc",
    "fn || '|' || pc",
    "ln || '|' || city || '|' || left(fn, 1)",
    "addr || '|' || pc",
    "pc || '|' || left(addr, 6)",
    "left(fn, 3) || '|' || left(ln, 3) || '|' || left(pc, 2)",
)


def _edit(a: str, b: str) -> str:
    """1 - edits / length, a swap of neighbours being one edit; NULL when either is blank."""
    return f"1.0 - damerau_levenshtein({a}, {b}) / greatest(length({a}), length({b}))"


# Every similarity once per pair; NULL when either side is blank, which weighs nothing.
SIMILARITIES = {
    "s_fn": "jaro_winkler_similarity(a.fn, b.fn)",
    "s_ln": "jaro_winkler_similarity(a.ln, b.ln)",
    "x_fn": "jaro_winkler_similarity(a.fn, b.ln)",
    "x_ln": "jaro_winkler_similarity(a.ln, b.fn)",
    # Day and month swapped (04/09 against 09/04) counts as a typo.
    "s_dob": f"""CASE WHEN left(a.dob, 4) = left(b.dob, 4) AND a.dob[5:6] = b.dob[7:8] AND a.dob[7:8] = b.dob[5:6]
                 THEN 0.9 ELSE {_edit("a.dob", "b.dob")} END""",
    # Address words in any order: "51 hurley street lakes estate" is "51 lakes estate hurley street".
    "s_addr": "greatest(jaro_winkler_similarity(a.addr, b.addr),"
    " jaro_winkler_similarity(a.addr_sorted, b.addr_sorted))",
    "s_pc": _edit("a.pc", "b.pc"),
    "s_city": "jaro_winkler_similarity(a.city, b.city)",
    "s_company": "jaro_winkler_similarity(a.company, b.company)",
    "same_st": "a.st = b.st",
    "same_ek": "a.ek = b.ek",
    "same_ph": "a.ph = b.ph",
}
CARRIED = ("fn_n", "ln_n", "dob_n", "pc_n", "city_n", "addr_n")


def _rarity(m: float, column: str) -> str:
    """log2(m / u) of an exact match, u being the share of contacts that hold this value."""
    return f"log2({m} * t.{column}_total / {column}_n)"


def _name(similarity: str, count: str) -> str:
    """Equal (weighed by rarity), a typo away, similar, different."""
    return f"""CASE WHEN {similarity} IS NULL THEN 0.0 WHEN {similarity} >= 0.999 THEN {_rarity(0.88, count)}
                    WHEN {similarity} >= 0.92 THEN 4.7 WHEN {similarity} >= 0.85 THEN 0.6 ELSE -3.3 END"""


# The better of both readings of the names: first and last typed the wrong way round happen.
NAMES = f"""greatest({_name("s_fn", "fn")} + {_name("s_ln", "ln")},
                    {_name("x_fn", "fn")} + {_name("x_ln", "ln")} - 1.0)"""
BIRTHDAY = f"""CASE WHEN s_dob IS NULL THEN 0.0 WHEN s_dob >= 1.0 THEN {_rarity(0.9, "dob")}
                    WHEN s_dob >= 0.87 THEN 4.5 ELSE -3.5 END"""
# Address, postal code and city describe one place, so they count once, by the best level reached: a
# household shares all of them, and only names and birthdays tell its members apart. Sharing even a common
# city is never worse than not knowing it.
PLACE = f"""CASE
    WHEN s_addr >= 0.9 AND (s_pc = 1.0 OR s_city >= 0.9) THEN {_rarity(0.75, "addr")}
    WHEN s_addr >= 0.9 AND coalesce(s_pc >= 0.75 OR s_city >= 0.9, TRUE) THEN {_rarity(0.1, "addr")}
    WHEN s_pc = 1.0 AND s_city >= 0.9 THEN {_rarity(0.08, "pc")}
    WHEN s_pc = 1.0 THEN {_rarity(0.03, "pc")}
    WHEN s_pc >= 0.75 AND s_city >= 0.9 THEN greatest({_rarity(0.05, "city")}, 0.5)
    WHEN s_city >= 0.9 THEN greatest({_rarity(0.02, "city")}, 0.0)
    WHEN s_addr IS NOT NULL OR s_pc IS NOT NULL OR s_city IS NOT NULL THEN -4.2
    ELSE 0.0 END + CASE WHEN NOT same_st THEN -2.0 ELSE 0.0 END"""
# People keep several addresses and numbers, so a different one is only weak evidence against.
CONTACT = """CASE WHEN same_ek THEN log2(0.9 * t.n) WHEN NOT same_ek THEN -1.0 ELSE 0.0 END
           + CASE WHEN same_ph THEN log2(0.9 * t.n) WHEN NOT same_ph THEN -1.0 ELSE 0.0 END"""
# Colleagues share a company as households share an address: a little evidence, capped.
COMPANY = "CASE WHEN s_company >= 0.95 THEN 2.0 WHEN s_company IS NOT NULL THEN -0.5 ELSE 0.0 END"
# An identity value (a customer number) weighs by its rarity; one typo away is still strong.
IDENTITY = f"""CASE WHEN a.value = b.value THEN log2(0.9 * a.total / a.n)
                    WHEN {_edit("a.value", "b.value")} >= 0.85 THEN 7.0 ELSE -3.0 END"""

EVIDENCE = (
    ("first name", "s_fn"),
    ("last name", "s_ln"),
    ("birthday", "s_dob"),
    ("address", "s_addr"),
    ("postal code", "s_pc"),
    ("city", "s_city"),
    ("company", "s_company"),
)


def _evidence() -> str:
    """'first name 1.00, last name 0.93, ...': each field both contacts have, and how close they are."""
    parts = [f"'{label} ' || printf('%.2f', {column})" for label, column in EVIDENCE]
    parts += ["CASE WHEN NOT same_ek THEN 'other email' END", "CASE WHEN NOT same_ph THEN 'other phone' END"]
    return f"concat_ws(', ', {', '.join(parts)}, i.evidence)"


def _candidates() -> str:
    """Distinct pairs (id_a < id_b) sharing at least one blocking key or an identity value."""
    blocks = [
        f"""SELECT k1.id AS id_a, k2.id AS id_b FROM
            (SELECT id, {key} AS k, count(*) OVER (PARTITION BY {key}) AS n FROM dup_profile WHERE {key} IS NOT NULL) k1
            JOIN (SELECT id, {key} AS k FROM dup_profile WHERE {key} IS NOT NULL) k2 ON k1.k = k2.k AND k1.id < k2.id
            WHERE k1.n <= {MAX_BLOCK}"""
        for key in BLOCKING_KEYS
    ]
    # The same value, and the same characters in another order (two neighbours swapped when typed).
    blocks += [
        f"""SELECT i1.id, i2.id FROM
            (SELECT *, count(*) OVER (PARTITION BY field, {key}) AS k_n FROM dup_identity) i1
            JOIN dup_identity i2 ON i1.field = i2.field AND i1.{key} = i2.{key} AND i1.id < i2.id
            WHERE i1.k_n <= {MAX_BLOCK}"""
        for key in ("value", "sorted")
    ]
    return "\nUNION\n".join(blocks)


def _compared(pairs: str) -> str:
    """CTEs `compared` (similarities) and `identity` (weight, evidence) for the pairs in CTE `pairs`."""
    similarities = ", ".join(f"{sql} AS {name}" for name, sql in SIMILARITIES.items())
    carried = ", ".join(f"a.{column}" for column in CARRIED)
    return f"""
    pairs AS ({pairs}),
    compared AS (
        SELECT p.id_a, p.id_b, {carried}, {similarities}
        FROM pairs p JOIN dup_profile a ON a.id = p.id_a JOIN dup_profile b ON b.id = p.id_b
    ),
    identity AS (
        SELECT p.id_a, p.id_b, sum({IDENTITY}) AS weight,
               string_agg(a.label || ' ' || printf('%.2f', {_edit("a.value", "b.value")}), ', ') AS evidence
        FROM pairs p
        JOIN dup_identity a ON a.id = p.id_a
        JOIN dup_identity b ON b.id = p.id_b AND b.field = a.field
        GROUP BY p.id_a, p.id_b
    )"""


# A shared name with nothing else agreeing is how two strangers called Maria Garcia look: names are not
# independent of each other (both follow the family's origin), so alone they count for less.
UNCORROBORATED = """CASE WHEN coalesce(s_dob >= 0.87 OR s_addr >= 0.9 OR s_pc >= 0.75 OR s_city >= 0.9
                                     OR same_ek OR same_ph OR i.weight > 0, FALSE) THEN 0.0 ELSE -4.0 END"""
_WEIGHT = f"{NAMES} + {BIRTHDAY} + ({PLACE}) + ({CONTACT}) + {COMPANY} + coalesce(i.weight, 0.0) + {UNCORROBORATED}"

# Every candidate's weight of evidence (log2 odds before the prior); evidence text comes later, only for
# the pairs that are kept.
WEIGHTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE dup_weights AS
WITH {_compared(_candidates())}
SELECT c.id_a, c.id_b, {_WEIGHT} AS weight
FROM compared c LEFT JOIN identity i ON i.id_a = c.id_a AND i.id_b = c.id_b CROSS JOIN dup_totals t
"""

KEPT_SQL = f"""
WITH {_compared("SELECT id_a, id_b FROM dup_weights WHERE weight + $prior >= $floor")}
SELECT c.id_a AS contact_a, c.id_b AS contact_b, 'likely' AS kind,
       round(1.0 / (1.0 + pow(2.0, -({_WEIGHT} + $prior))), 4) AS score, {_evidence()} AS evidence
FROM compared c LEFT JOIN identity i ON i.id_a = c.id_a AND i.id_b = c.id_b CROSS JOIN dup_totals t
"""


def estimate_prior(con: duckdb.DuckDBPyConnection, contacts: int, rate: float = DUPLICATE_RATE) -> float:
    """The prior log2 odds that two contacts are one person, fitted to this database (EM on one parameter).

    Starting from `rate` duplicates per contact, the expected number of true pairs among the candidates
    (the sum of their probabilities) gives a new prior, until it settles. A database full of duplicates
    (an import merged from several systems) thus trusts borderline evidence more than a clean one.
    """
    all_pairs = max(contacts * (contacts - 1) / 2, 1.0)
    prior = math.log2(rate / max(contacts, 1))
    for _ in range(30):
        expected = scalar(con, "SELECT sum(1.0 / (1.0 + pow(2.0, -(weight + ?)))) FROM dup_weights", [prior]) or 0.0
        fitted = min(max(expected / all_pairs, MIN_RATE / all_pairs * contacts), MAX_RATE / all_pairs * contacts)
        new_prior = math.log2(fitted / (1 - fitted))
        if abs(new_prior - prior) < 0.01:
            return new_prior
        prior = new_prior
    return prior


def likely_pairs(con: duckdb.DuckDBPyConnection, rate: float | None = None) -> pl.DataFrame:
    """Candidate pairs scored 0-1 with their evidence: contact_a < contact_b, kind, score, evidence.

    `rate` fixes the expected duplicates per contact; by default it is fitted to the data.
    """
    install_macros(con)
    con.execute(PROFILE_SQL)
    con.execute(IDENTITY_SQL)
    try:
        con.execute(WEIGHTS_SQL)
        contacts = scalar(con, "SELECT n FROM dup_totals")
        prior = math.log2(rate / max(contacts, 1)) if rate else estimate_prior(con, contacts)
        return frame(con, KEPT_SQL, {"prior": prior, "floor": math.log2(SCORE_FLOOR / (1 - SCORE_FLOOR))})
    finally:
        con.execute(
            "DROP TABLE IF EXISTS dup_profile; DROP TABLE IF EXISTS dup_identity; DROP TABLE IF EXISTS dup_totals"
        )
        con.execute("DROP TABLE IF EXISTS dup_weights")
