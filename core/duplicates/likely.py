"""Likely pairs: contacts that are probably one person although no email or phone says so.

The pipeline: profile every contact (cleaned fields, how common each value is), find candidate pairs by
the blocking rules (`core.duplicates.blocking`), score each candidate Fellegi-Sunter style by the
comparisons (`core.duplicates.comparisons`: every field adds log2(m / u) for the level of agreement it
reaches), fit the prior odds to the data, and keep the pairs whose probability reaches SCORE_FLOOR, with
evidence naming the level each field reached.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from core.contacts.custom_values import value_rows_sql
from core.db import Scratch, frame, rows, scalar, scratch
from core.duplicates.blocking import (
    BLOCKING_RULES,
    PAIRS_PER_CONTACT,
    BlockingCount,
    BlockingRule,
    Rule,
    bounded,
    candidates_sql,
    rule_budget,
)
from core.duplicates.comparisons import (
    COMPARISONS,
    IDENTITY,
    SIMILARITIES,
    BestReading,
    Comparison,
    FrequencyLevel,
    Level,
    Scored,
    evidence_sql,
    weight_sql,
)
from core.duplicates.groups import member_pairs
from core.duplicates.keys import install_macros
from core.duplicates.learning import (
    Patterns,
    anchored,
    combine,
    estimate_u,
    expectation_maximisation,
    learned_comparisons,
    level_index_sql,
    lifted,
    relearned,
)
from core.duplicates.names import install_nicknames
from core.duplicates.source import detection_store

# Likely pairs scoring below this are not kept at all.
SCORE_FLOOR = 0.5
# Two members of a would-be group whose own evidence weighs below this (log2: 64 to 1 against, the prior
# left out, which at a million contacts would make any two people without shared fields look different)
# are different people: the group is split between them.
CONFLICT_WEIGHT = -6.0
CONFLICT_COLUMNS = {"contact_a": pl.String, "contact_b": pl.String, "score": pl.Float64, "evidence": pl.String}
PAIR_IDS = {"contact_a": pl.String, "contact_b": pl.String}
# Expected duplicates per contact before the data says otherwise: two random contacts of N are one person
# with odds about this / N. The fitted rate stays within MIN_RATE and MAX_RATE.
DUPLICATE_RATE, MIN_RATE, MAX_RATE = 0.1, 0.01, 2.0
# The fitted share of all pairs that are one person stays at or below this (even prior odds).
MAX_PRIOR_RATE = 0.5
# Learning: random pairs drawn for u, each training rule's pairs sampled for EM, the fewest worth learning from.
RANDOM_PAIRS, EM_PAIRS, MIN_CANDIDATES = 10_000, 200_000, 1_000


def _clean(column: str) -> str:
    """Lower-case letters and digits only: accents, punctuation and spaces do not tell people apart."""
    return f"nullif(regexp_replace(lower(strip_accents(trim({column}))), '[^a-z0-9]', '', 'g'), '')"


def _words(column: str) -> str:
    """Lower-case words separated by single spaces."""
    return f"nullif(trim(regexp_replace(lower(strip_accents({column})), '[^a-z0-9]+', ' ', 'g')), '')"


# Profile columns whose values' frequencies weigh an exact match: each contact carries how many contacts
# hold its value ({column}_n), and dup_totals how many hold any ({column}_total).
FREQUENCY_COLUMNS = ("fn", "ln", "dob", "pc", "city", "addr")


def _value_counts(column: str) -> str:
    """A join adding how many contacts hold each value of `column`."""
    counts = f"SELECT {column}, count(*) AS n FROM dup_base WHERE {column} IS NOT NULL GROUP BY {column}"
    return f"LEFT JOIN ({counts}) {column} USING ({column})"


# How much likelier two different people holding a name share a city than two random contacts do, per name:
# where a family comes from shapes both its names and its town, so "Wang" in Shanghai is far commoner than in
# the whole database, and two Wangs there are far likelier namesakes. "Different people" are holders whose
# other name starts with another letter (a typo, a cut or a nickname of one person's name rarely changes its
# first letter, read from the usual form: Bob is robert). Counted from value counts alone (no pairs): for a
# last name, pairs of its holders sharing a city and pairs overall, each less those sharing the first initial.
# The lift is shrunk towards 1 (none) by NAME_LIFT_PRIOR pairs' worth, so a rare name, whose few holders are
# mostly one person's records, keeps its weight; dup_name_lift (field, name, lift) holds log2 of the lifts
# over 1.
NAME_LIFT_PRIOR = 20.0
MIN_NAME_LIFT = 0.5


def _name_lift_sql(field: str, other: str) -> str:
    """field, name, lift (log2) for the names of `field` (fn, ln) whose holders cluster by city, holders
    being told apart by the first letter of `other` (the other name)."""
    return f"""
    SELECT '{field}' AS field, name, log2(lift) AS lift FROM (
        SELECT c.name, (c.same + {NAME_LIFT_PRIOR}) / (a.pairs * r.share + {NAME_LIFT_PRIOR}) AS lift
        FROM (SELECT name, sum(t * t - q) / 2 AS same
              FROM (SELECT name, city, sum(n) AS t, sum(n * n) AS q FROM (
                        SELECT {field} AS name, city, {other} AS other, count(*)::DOUBLE AS n
                        FROM dup_lift_base GROUP BY ALL) GROUP BY name, city)
              GROUP BY name) c
        JOIN (SELECT name, (sum(t) * sum(t) - sum(t * t)) / 2 AS pairs
              FROM (SELECT {field} AS name, {other} AS other, count(*)::DOUBLE AS t FROM dup_lift_base GROUP BY ALL)
              GROUP BY name) a USING (name)
        CROSS JOIN dup_random_city r
    ) WHERE log2(lift) >= {MIN_NAME_LIFT}"""


NAME_LIFT_SQL = f"""
CREATE OR REPLACE TEMP TABLE dup_lift_base AS
SELECT b.fn, b.ln, b.city, left(coalesce(nick.usual, b.fn), 1) AS fi, left(b.ln, 1) AS li
FROM dup_base b LEFT JOIN dup_nicknames nick ON nick.name = b.fn
WHERE b.city IS NOT NULL AND b.fn IS NOT NULL AND b.ln IS NOT NULL;
CREATE OR REPLACE TEMP TABLE dup_random_city AS
SELECT sum(n * (n - 1)) / (sum(n) * (sum(n) - 1)) AS share
FROM (SELECT count(*)::DOUBLE AS n FROM dup_lift_base GROUP BY city) HAVING sum(n) > 1;
CREATE OR REPLACE TEMP TABLE dup_name_lift AS
{_name_lift_sql("ln", "fi")}
UNION ALL
{_name_lift_sql("fn", "li")};
DROP TABLE dup_lift_base;
DROP TABLE dup_random_city;
"""


# The mailbox name (its letters) and the names as a mailbox would spell them, first and last either way round,
# each as a 64-bit hash, which the pairs compare (core.duplicates.comparisons.spells): strings would hold two
# more names per contact on both sides of the scoring's joins. Names under 3 letters spell nothing.
_MAILBOX_NAME = "nullif(regexp_replace(split_part(ek, '@', 1), '[^a-z]', '', 'g'), '')"
SPELLINGS = {
    "eh": f"CASE WHEN {_MAILBOX_NAME} IS NOT NULL THEN hash({_MAILBOX_NAME}) END",
    "nh": "CASE WHEN length(fn) >= 3 AND length(ln) >= 3 THEN hash(fn || ln) END",
    "mh": "CASE WHEN length(fn) >= 3 AND length(ln) >= 3 THEN hash(ln || fn) END",
}


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
{NAME_LIFT_SQL}
CREATE OR REPLACE TEMP TABLE dup_rid AS
SELECT id, (row_number() OVER (ORDER BY id))::INTEGER AS rid FROM dup_base;
CREATE OR REPLACE TEMP TABLE dup_profile AS
SELECT b.*, array_to_string(list_sort(string_split(b.addr, ' ')), ' ') AS addr_sorted,
       coalesce(nick.usual, b.fn) AS fu,
       nullif(regexp_replace(split_part(b.ek, '@', 1), '[^a-z0-9]', '', 'g'), '') AS el,
       {", ".join(f"{sql} AS {name}" for name, sql in SPELLINGS.items())},
       {", ".join(f"{c}.n AS {c}_n" for c in FREQUENCY_COLUMNS)},
       coalesce(fn_lift.lift, 0.0)::FLOAT AS fn_lift, coalesce(ln_lift.lift, 0.0)::FLOAT AS ln_lift, r.rid
FROM dup_base b
JOIN dup_rid r ON r.id = b.id
LEFT JOIN dup_nicknames nick ON nick.name = b.fn
LEFT JOIN dup_name_lift fn_lift ON fn_lift.field = 'fn' AND fn_lift.name = b.fn
LEFT JOIN dup_name_lift ln_lift ON ln_lift.field = 'ln' AND ln_lift.name = b.ln
{chr(10).join(_value_counts(c) for c in FREQUENCY_COLUMNS)};
CREATE OR REPLACE TEMP TABLE dup_totals AS
SELECT count(*) AS n, {", ".join(f"count({c}) AS {c}_total" for c in FREQUENCY_COLUMNS)}
FROM dup_base;
DROP TABLE dup_base;
DROP TABLE dup_name_lift;
"""


def _swapped_key(first: bool) -> str:
    """An identity value with the characters of one part in sorted order: two values one swap of neighbours
    apart share one of the two keys. The first: the first half (length // 2 characters) sorted, the rest as
    typed, for a swap inside the first half. The second: all but the last character of the first half as typed,
    the rest sorted, for any other swap. (All characters sorted, the one key before, paired every two 8-digit
    customer numbers holding the same digits: 1.4 million of the 1M demo's 5.4 million candidates.)"""
    value, half = "lower(trim(v.value))", "(length(lower(trim(v.value))) // 2)"

    def ordered(text: str) -> str:
        return f"array_to_string(list_sort(string_split({text}, '')), '')"

    key = (
        f"{ordered(f'left({value}, {half})')} || '|' || substr({value}, {half} + 1)"
        if first
        else f"left({value}, {half} - 1) || '|' || {ordered(f'substr({value}, {half})')}"
    )
    return f"CASE WHEN length({value}) >= 2 THEN {key} END"


IDENTITY_SQL = """
CREATE OR REPLACE TEMP TABLE dup_identity AS
SELECT *, count(*) OVER (PARTITION BY field, value) AS n, count(*) OVER (PARTITION BY field) AS total FROM (
    SELECT v.contact_id AS id, r.rid, v.field_key AS field, f.label, lower(trim(v.value)) AS value,
           {swapped_first} AS swapped_first, {swapped_second} AS swapped_second
    FROM ({values}) v JOIN custom_fields f ON f.key = v.field_key AND f.is_identity
    LEFT JOIN dup_rid r ON r.id = v.contact_id
    WHERE trim(v.value) <> ''
)
"""


def _compared(pairs: str, key: str = "id") -> str:
    """CTEs `compared` (similarities) and `identity` (weight, evidence) for the pairs in CTE `pairs`, whose id_a
    and id_b hold the contacts' `key`: id, or rid (the profile's integer row number in ID order, so rid_a < rid_b
    exactly when id_a < id_b); `compared` then also carries the IDs as name_a, name_b."""
    similarities = ", ".join(f"{sql} AS {name}" for name, sql in SIMILARITIES.items())
    # The second contact's name counts too: a name compared across fields (swapped) weighs by either's.
    carried = ", ".join(
        [*(f"a.{column}_n" for column in FREQUENCY_COLUMNS), "b.fn_n AS fn_n_b", "b.ln_n AS ln_n_b"]
        + ["a.fn_lift", "a.ln_lift", "b.fn_lift AS fn_lift_b", "b.ln_lift AS ln_lift_b"]
    )
    ids = "" if key == "id" else "a.id AS name_a, b.id AS name_b, "
    return f"""
    pairs AS ({pairs}),
    compared AS (
        SELECT p.id_a, p.id_b, {ids}{carried}, {similarities}
        FROM pairs p JOIN dup_profile a ON a.{key} = p.id_a JOIN dup_profile b ON b.{key} = p.id_b
    ),
    identity AS (
        SELECT p.id_a, p.id_b, sum({IDENTITY.weight_sql()}) AS weight,
               string_agg({IDENTITY.evidence_sql()}, '; ' ORDER BY a.field) AS evidence
        FROM pairs p
        JOIN dup_identity a ON a.{key} = p.id_a
        JOIN dup_identity b ON b.{key} = p.id_b AND b.field = a.field
        GROUP BY p.id_a, p.id_b
    )"""


CANDIDATES = "SELECT id_a, id_b FROM dup_candidates"


def scored_sql(
    pairs: str,
    evidence: bool = False,
    parts: tuple[Scored, ...] = COMPARISONS,
    key: str = "id",
    ids: bool = True,
    rids: bool = False,
) -> str:
    """id_a, id_b, weight (log2 odds before the prior) and, if asked, evidence of the pairs `pairs` selects, their
    id_a, id_b being the contacts' `key` (id, or the profile's integer rid: see _compared). With rid, `ids` says
    whether the output names the contacts by ID (else by rid: millions of scored pairs stay two integers), and
    `rids` adds the rids as rid_a, rid_b."""
    said = f", {evidence_sql(parts)} AS evidence" if evidence else ""
    named = "c.name_a AS id_a, c.name_b AS id_b" if key != "id" and ids else "c.id_a, c.id_b"
    if rids and key != "id" and ids:
        named += ", c.id_a AS rid_a, c.id_b AS rid_b"
    return f"""
WITH {_compared(pairs, key)}
SELECT {named}, {weight_sql(parts)} AS weight{said}
FROM compared c LEFT JOIN identity i ON i.id_a = c.id_a AND i.id_b = c.id_b CROSS JOIN dup_totals t
"""


def levels_sql(pairs: str, comparisons: list[Comparison], key: str = "id") -> str:
    """Per pattern of levels (l0, l1, ... the level index each comparison reaches) of the pairs `pairs` selects
    (id_a, id_b, rules: a bit per training rule that found the pair): their count n and the weight carried in
    from identity fields. The pairs name contacts by `key` (see _compared)."""
    indexes = ", ".join(f"{level_index_sql(c)} AS l{k}" for k, c in enumerate(comparisons))
    return f"""
WITH {_compared(f"SELECT id_a, id_b FROM ({pairs})", key)}, ruled AS ({pairs})
SELECT {", ".join(f"l{k}" for k in range(len(comparisons)))}, rules, carried, count(*) AS n FROM (
    SELECT {indexes}, r.rules, round(coalesce(i.weight, 0.0), 1) AS carried
    FROM compared c JOIN ruled r ON r.id_a = c.id_a AND r.id_b = c.id_b
    LEFT JOIN identity i ON i.id_a = c.id_a AND i.id_b = c.id_b CROSS JOIN dup_totals t
) GROUP BY ALL
"""


def training_pairs_sql(rules: list[Rule]) -> str:
    """id_a, id_b, rules: a bounded sample of each training rule's pairs, each pair once with a bit per rule, the
    contacts named by the profile's rid (as two strings, the pairs took 1.5 s more CPU at the 1M demo)."""
    samples = " UNION ALL ".join(
        f"SELECT id_a, id_b, {1 << bit} AS bit FROM ({rule.pairs_sql(contact='rid')}) "
        f"USING SAMPLE reservoir({EM_PAIRS} ROWS) REPEATABLE ({bit})"
        for bit, rule in enumerate(rules)
    )
    return f"SELECT id_a, id_b, bit_or(bit) AS rules FROM ({samples}) GROUP BY id_a, id_b"


# Random pairs for u: two samples of contacts side by side, the same ones on every run (by rid, in ID order).
_SAMPLE = f"FROM dup_profile USING SAMPLE reservoir({RANDOM_PAIRS} ROWS) REPEATABLE"
RANDOM_PAIRS_SQL = f"""
SELECT a.rid AS id_a, b.rid AS id_b, 0 AS rules
FROM (SELECT rid, row_number() OVER (ORDER BY rid) AS r {_SAMPLE} (1)) a
JOIN (SELECT rid, row_number() OVER (ORDER BY rid DESC) AS r {_SAMPLE} (2)) b USING (r)
WHERE a.rid <> b.rid
"""


# Anchor pairs for the anchored comparisons' m: contacts sharing a mailbox or a number that few others hold
# (a switchboard or a family's landline says less), a bounded sample.
ANCHOR_BLOCK = 4
ANCHOR_PAIRS_SQL = f"""
SELECT id_a, id_b, 0 AS rules FROM (
    {BlockingRule("ek", "mailbox").pairs_sql(ANCHOR_BLOCK, contact="rid")}
    UNION {BlockingRule("ph", "number").pairs_sql(ANCHOR_BLOCK, contact="rid")}
) USING SAMPLE reservoir({EM_PAIRS} ROWS) REPEATABLE (3)
"""


# Namesakes for the place lift: pairs sharing a first name (their last names differ, so they are not one
# person) within a fixed sample of contacts.
LIFT_SAMPLE = 20_000
PLACE_LIFT_SQL = f"""
WITH s AS (SELECT id, fn, ln, city FROM dup_profile WHERE city IS NOT NULL
           USING SAMPLE reservoir({LIFT_SAMPLE} ROWS) REPEATABLE (5))
SELECT avg(CASE WHEN a.city = b.city THEN 1.0 ELSE 0.0 END), count(*)
FROM s a JOIN s b ON a.fn = b.fn AND a.id < b.id
WHERE jaro_winkler_similarity(a.ln, b.ln) < 0.85
"""
RANDOM_PLACE_SQL = """
SELECT sum(city_n::DOUBLE * city_n) / max(t.city_total) / max(t.city_total)
FROM (SELECT DISTINCT city, city_n FROM dup_profile WHERE city IS NOT NULL) CROSS JOIN dup_totals t
"""


def place_lift(con: duckdb.DuckDBPyConnection) -> float:
    """How many times likelier two different people who share a first name live in one city than two random
    contacts do, at least 1 (1 when too few namesakes or cities to tell)."""
    [(shared, namesakes)] = rows(con, PLACE_LIFT_SQL)
    at_random = scalar(con, RANDOM_PLACE_SQL)
    if not namesakes or namesakes < MIN_CANDIDATES or not at_random or shared is None:
        return 1.0
    return max(1.0, float(shared) / float(at_random))


def _patterns(con: duckdb.DuckDBPyConnection, pairs: str, comparisons: list[Comparison]) -> pl.DataFrame:
    # The pairs are drawn once: levels_sql reads them twice, and a reservoir sample drawn twice on several
    # threads is not the same sample (inline, the 1M demo's training kept only the 288,316 pairs both draws
    # held of 621,488, in 9.0 s CPU instead of 5.7).
    con.execute(f"CREATE OR REPLACE TEMP TABLE dup_sampled AS {pairs}")
    try:
        return frame(con, levels_sql("SELECT id_a, id_b, rules FROM dup_sampled", comparisons, "rid"))
    finally:
        con.execute("DROP TABLE IF EXISTS dup_sampled")


def _as_patterns(found: pl.DataFrame, width: int) -> Patterns:
    levels = found.select([f"l{k}" for k in range(width)]).to_numpy().astype(np.int64).reshape(-1, width)
    return Patterns(levels, found["n"].to_numpy().astype(float), found["carried"].to_numpy())


def _exact_u(con: duckdb.DuckDBPyConnection, comparison: Comparison) -> dict[int, float]:
    """For each frequency level: the chance that two random contacts hold the same value."""
    found = {}
    for i, level in enumerate(comparison.levels):
        if isinstance(level, FrequencyLevel) and level.total.startswith("t."):
            held = f"sum({level.count})::DOUBLE / max({level.total})" if level.count else "1.0"
            found[i] = (
                scalar(con, f"SELECT {held} / max({level.total}) FROM dup_profile CROSS JOIN dup_totals t") or 0.0
            )
    return found


def learn_parts(con: duckdb.DuckDBPyConnection, parts: tuple[Scored, ...] = COMPARISONS) -> tuple[Scored, ...]:
    """The scoring parts with m and u learned from this database: u from random pairs, m by EM over each
    training blocking rule's pairs (a bounded sample), leaving out the fields that rule makes agree, as splink
    trains. The priors stay where the training rules find too few pairs to learn from."""
    comparisons = learned_comparisons(parts)
    rules = [rule for rule in BLOCKING_RULES if rule.trains is not None]
    found = _patterns(con, training_pairs_sql(rules), comparisons)
    if found["n"].sum() < MIN_CANDIDATES:
        return parts
    random = _as_patterns(_patterns(con, RANDOM_PAIRS_SQL, comparisons), len(comparisons))
    expanded = np.repeat(random.levels, random.counts.astype(np.int64), axis=0)
    u = estimate_u(comparisons, expanded, [_exact_u(con, c) for c in comparisons])
    anchors = _as_patterns(_patterns(con, ANCHOR_PAIRS_SQL, comparisons), len(comparisons))
    lift = place_lift(con)
    parts = lifted(anchored(parts, comparisons, anchors, u, lift), lift)
    comparisons = learned_comparisons(parts)
    fits = []
    for bit, rule in enumerate(rules):
        patterns = _as_patterns(found.filter((pl.col("rules") & (1 << bit)) != 0), len(comparisons))
        if patterns.counts.sum() < MIN_CANDIDATES:
            continue
        used = [c.field not in (rule.trains or ()) for c in comparisons]
        fits.append((expectation_maximisation(parts, comparisons, patterns, u, used), used))
    return relearned(parts, comparisons, combine(comparisons, fits, u))


def estimate_prior(con: duckdb.DuckDBPyConnection, contacts: int, rate: float = DUPLICATE_RATE) -> float:
    """The prior log2 odds that two contacts are one person, fitted to this database (EM on one parameter).

    Starting from `rate` duplicates per contact, the expected number of true pairs among the candidates
    (the sum of their probabilities) gives a new prior, until it settles. A database full of duplicates
    (an import merged from several systems) thus trusts borderline evidence more than a clean one.
    """
    prior = math.log2(rate / max(contacts, 1))
    if contacts < 2:  # no pair to fit on (and the fitted rate would be 0, whose log odds do not exist)
        return prior
    all_pairs = contacts * (contacts - 1) / 2
    for _ in range(30):
        expected = scalar(con, "SELECT sum(1.0 / (1.0 + pow(2.0, -(weight + ?)))) FROM dup_weights", [prior]) or 0.0
        fitted = min(max(expected / all_pairs, MIN_RATE / all_pairs * contacts), MAX_RATE / all_pairs * contacts)
        # Never past even odds: two contacts whose one pair is certain would otherwise make the odds infinite.
        fitted = min(fitted, MAX_PRIOR_RATE)
        new_prior = math.log2(fitted / (1 - fitted))
        if abs(new_prior - prior) < 0.01:
            return new_prior
        prior = new_prior
    return prior


def profile(con: duckdb.DuckDBPyConnection) -> None:
    """Build this connection's temp tables dup_profile, dup_totals and dup_identity, which rules and levels read."""
    install_macros(con)
    install_nicknames(con)
    con.execute(PROFILE_SQL)
    identity = [key for (key,) in rows(con, "SELECT key FROM custom_fields WHERE is_identity ORDER BY position")]
    con.execute(
        IDENTITY_SQL.format(
            values=value_rows_sql(identity), swapped_first=_swapped_key(True), swapped_second=_swapped_key(False)
        )
    )
    con.execute("DROP TABLE dup_rid")


def drop_profile(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables of `profile` and of scoring."""
    for table in (
        *("dup_profile", "dup_identity", "dup_totals", "dup_candidates", "dup_weights", "dup_nicknames"),
        "dup_rid",
    ):
        con.execute(f"DROP TABLE IF EXISTS {table}")


# Scoring an exact pair's names for a conflict: one name agreeing with the other contact's other name is no
# conflict (first and last typed the wrong way round).
SWAPPED_AGREES = Comparison(
    "names swapped", (Level("a name agrees across fields", "x_fn >= 0.85 OR x_ln >= 0.85", 99.0),), learned=False
)


def conflicting_pairs(
    con: duckdb.DuckDBPyConnection, linked: pl.DataFrame, parts: tuple[Scored, ...], prior: float
) -> pl.DataFrame:
    """Pairs of members of the groups `linked` (contact_a, contact_b, kind: contacts named by the profile's rid)
    chains together (up to CONFLICT_GROUP members, within a pair budget of one per contact), not linked directly,
    whose own evidence weighs below CONFLICT_WEIGHT; and exact pairs whose names alone weigh below it (a shared
    number between people whose first and last names both differ: a landline, a switchboard, or at a million
    contacts a number typed one digit off that is someone else's): contact_a, contact_b (contact IDs), score,
    evidence. (The rid follows ID order, so the groups and their pairs are those the IDs would give, at two
    integers a pair: at 10,000,000 contacts 10 million linked pairs.)"""
    if linked.is_empty():  # (core.duplicates.groups types an empty grouping by contact ID)
        return pl.DataFrame(schema=CONFLICT_COLUMNS)
    budget = rule_budget(scalar(con, "SELECT n FROM dup_totals") or 0) // PAIRS_PER_CONTACT
    unlinked = member_pairs(linked, budget=budget).rename({"contact_a": "id_a", "contact_b": "id_b"})
    shared = linked.filter(pl.col("kind") == "exact").select(id_a="contact_a", id_b="contact_b")
    # The names as typed; a name that agrees with the other's other name (swapped) vetoes the conflict.
    names = (*(c for p in parts if isinstance(p, BestReading) for c in p.readings[0].comparisons), SWAPPED_AGREES)
    found = [_conflicts(con, unlinked, parts, prior), _conflicts(con, shared, names, prior)]
    return pl.concat(found).unique(["contact_a", "contact_b"], keep="first")


def _conflicts(
    con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, parts: tuple[Scored, ...], prior: float
) -> pl.DataFrame:
    """The pairs (id_a, id_b: rids) whose weight by `parts` is below CONFLICT_WEIGHT, named by contact ID. Their
    evidence is written for those alone (at 10,000,000 contacts the groups' member pairs are millions)."""
    if pairs.is_empty() or not parts:
        return pl.DataFrame(schema=CONFLICT_COLUMNS)
    with scratch(con, pairs) as candidates:
        weighed = scored_sql(f"SELECT id_a, id_b FROM {candidates}", parts=parts, key="rid", ids=False)
        against = f"SELECT id_a, id_b FROM ({weighed}) WHERE weight < $conflict"
        with scratch(con, against, {"conflict": CONFLICT_WEIGHT}) as weak:
            scored = scored_sql(f"SELECT id_a, id_b FROM {weak}", True, parts, "rid")
            found = frame(
                con,
                f"""SELECT id_a AS contact_a, id_b AS contact_b,
                           round(1.0 / (1.0 + pow(2.0, -(weight + $prior))), 4) AS score, evidence FROM ({scored})
                    WHERE weight < $conflict""",
                {"prior": prior, "conflict": CONFLICT_WEIGHT},
            )
    return found.cast(CONFLICT_COLUMNS)  # type: ignore[arg-type]


class ScoredPairs(NamedTuple):
    """What scoring finds: likely pairs (a relation of the detection connection: contact_a, contact_b, kind,
    score, evidence; millions at 10,000,000 contacts, so they stay in DuckDB until written), how many, the
    conflicts that split the groups they would chain, and what each blocking rule proposed."""

    likely: Scratch
    likely_count: int
    conflicts: pl.DataFrame
    blocking: list[BlockingCount]


# All predicting rules' pairs together stay within this many per contact (and at least MIN_CANDIDATES_BUDGET), so
# that a dense database cannot make scoring run away: each rule's own budget (PAIRS_PER_CONTACT) times some twenty
# rules allowed 63 pairs per contact. Past it every rule gets one smaller budget, the largest whose pairs all fit,
# so rules with few pairs keep them all and the busiest lose their biggest blocks (as a rule does past its own
# budget). The 1M demo's rules propose 8.6 pairs per contact (4.25 distinct) and keep all of them; bench-pg's 10M
# (nine copies of each demo contact's last name, birthday and address with another first name) proposed 21.2.
CANDIDATES_PER_CONTACT, MIN_CANDIDATES_BUDGET = 10, 500_000


# Likely pairs kept stay within this many per contact (at least MIN_KEPT), the strongest first: the 1M demo keeps
# 0.1 per contact. In bench-pg's 10M the nine copies of each demo contact agree on all but the first name, which
# would make about 4.5 pairs per contact, 45 million pairs held with their evidence.
KEPT_PER_CONTACT, MIN_KEPT = 1, 100_000


def kept_budget(contacts: int) -> int:
    """The most likely pairs one run keeps over `contacts` contacts."""
    return max(MIN_KEPT, KEPT_PER_CONTACT * contacts)


def candidates_budget(contacts: int) -> int:
    """The most pairs all predicting rules together may propose over `contacts` contacts."""
    return max(MIN_CANDIDATES_BUDGET, CANDIDATES_PER_CONTACT * contacts)


def shared_budget(sizes: list[tuple[Rule, pl.DataFrame]], budget: int, total: int) -> int:
    """The largest budget per rule (at most `budget`) whose pairs over all the rules, given their block sizes,
    stay within `total`."""

    def proposed(each: int) -> int:
        return sum(bounded(rule, blocks, each).pairs for rule, blocks in sizes)

    if proposed(budget) <= total:
        return budget
    low, high = 0, budget  # proposed(low) <= total < proposed(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if proposed(middle) <= total else (low, middle)
    return low


def blocking_counts(con: duckdb.DuckDBPyConnection, rules: tuple[Rule, ...] = BLOCKING_RULES) -> list[BlockingCount]:
    """Each predicting rule's pairs within its pair budget (core.duplicates.blocking.bounded), from its block
    sizes in dup_profile / dup_identity; all of them together within candidates_budget (see
    CANDIDATES_PER_CONTACT)."""
    contacts = scalar(con, "SELECT n FROM dup_totals") or 0
    sizes = [(rule, frame(con, rule.block_sizes_sql())) for rule in rules if rule.predicts]
    budget = shared_budget(sizes, rule_budget(contacts), candidates_budget(contacts))
    return [bounded(rule, blocks, budget) for rule, blocks in sizes]


@contextmanager
def score_pairs(
    con: duckdb.DuckDBPyConnection, rate: float | None = None, learn: bool = True, exact: pl.DataFrame | None = None
) -> Iterator[ScoredPairs]:
    """Likely pairs (see likely_pairs, the ones also in `exact` left out) and the conflicts inside the groups
    they and the `exact` pairs would make (see conflicting_pairs), for the length of the block. On PostgreSQL
    they are found in an extract of what detection reads (core.duplicates.source), which `con` must be then (the
    likely pairs are a relation of it: see core.db.extract.write_back)."""
    profile(con)
    try:
        parts = learn_parts(con) if learn else COMPARISONS
        blocking = blocking_counts(con)
        limits = {count.rule: count.largest_block for count in blocking}
        candidates = candidates_sql(BLOCKING_RULES, limits=limits, key="rid")
        # The candidates first, on their own: planned inside the scoring query, their one-pass blocking
        # (candidates_sql) held twice the memory. Then every candidate's weight; evidence text comes later, only
        # for the pairs that are kept.
        con.execute(f"CREATE OR REPLACE TEMP TABLE dup_candidates AS {candidates}")
        # A pair weighing below the floor is never kept (the prior is at most even odds, log2 0): estimate_prior
        # needs its weight, not its IDs, which would hold 4 million pairs of strings at the 1M demo.
        floor = math.log2(SCORE_FLOOR / (1 - SCORE_FLOOR))
        weights = scored_sql(CANDIDATES, parts=parts, key="rid", ids=False)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE dup_weights AS
            SELECT CASE WHEN weight >= $floor THEN id_a END AS id_a, CASE WHEN weight >= $floor THEN id_b END AS id_b,
                   weight
            FROM ({weights})""",
            {"floor": floor},
        )
        con.execute("DROP TABLE dup_candidates")
        contacts = scalar(con, "SELECT n FROM dup_totals")
        prior = math.log2(rate / max(contacts, 1)) if rate else estimate_prior(con, contacts)
        with _exact_by_rid(con, exact) as exact_rids, _kept(con, parts, prior, floor, contacts, exact_rids) as kept:
            # The groups' links by rid (two integers a pair); a pair both exact and likely is exact.
            linked = frame(
                con,
                f"""SELECT rid_a AS contact_a, rid_b AS contact_b, 'likely' AS kind FROM {kept}
                    UNION ALL SELECT id_a, id_b, 'exact' FROM {exact_rids}""",
            )
            conflicts = conflicting_pairs(con, linked, parts, prior)
            yield ScoredPairs(kept, scalar(con, f"SELECT count(*) FROM {kept}") or 0, conflicts, blocking)
    finally:
        drop_profile(con)


@contextmanager
def _exact_by_rid(con: duckdb.DuckDBPyConnection, exact: pl.DataFrame | None) -> Iterator[Scratch]:
    """id_a, id_b: the `exact` pairs (contact_a, contact_b) named by the profile's rid."""
    pairs = pl.DataFrame(schema=PAIR_IDS) if exact is None else exact.select("contact_a", "contact_b").cast(pl.String)
    with scratch(con, pairs) as named:
        sql = f"""SELECT a.rid AS id_a, b.rid AS id_b FROM {named} e
                  JOIN dup_profile a ON a.id = e.contact_a JOIN dup_profile b ON b.id = e.contact_b"""
        with scratch(con, sql) as by_rid:
            yield by_rid


@contextmanager
def _kept(
    con: duckdb.DuckDBPyConnection,
    parts: tuple[Scored, ...],
    prior: float,
    floor: float,
    contacts: int,
    exact: Scratch,
) -> Iterator[Scratch]:
    """The likely pairs kept: the strongest within kept_budget, those also exact left out, with their evidence
    (about 150 characters each): rid_a, rid_b, contact_a, contact_b, kind, score, evidence."""
    # The kept budget counts the pairs before the exact ones are left out, as it always has.
    strongest = f"""SELECT id_a, id_b FROM (
                        SELECT id_a, id_b FROM dup_weights WHERE weight + $prior >= $floor
                        ORDER BY weight DESC, id_a, id_b LIMIT {kept_budget(contacts)}) w
                    WHERE NOT EXISTS (SELECT 1 FROM {exact} e WHERE e.id_a = w.id_a AND e.id_b = w.id_b)"""
    scored = scored_sql(strongest, True, parts, "rid", rids=True)
    with scratch(
        con,
        f"""SELECT rid_a, rid_b, id_a AS contact_a, id_b AS contact_b, 'likely' AS kind,
                   round(1.0 / (1.0 + pow(2.0, -(weight + $prior))), 4) AS score, evidence FROM ({scored})""",
        {"prior": prior, "floor": floor},
    ) as kept:
        yield kept


def likely_pairs(con: duckdb.DuckDBPyConnection, rate: float | None = None, learn: bool = True) -> pl.DataFrame:
    """Candidate pairs scored 0-1 with their evidence: contact_a < contact_b, kind, score, evidence.

    `rate` fixes the expected duplicates per contact; by default it is fitted to the data. `learn` re-weighs
    the comparison levels from this database (core.duplicates.learning); without it the fixed priors weigh.
    """
    with detection_store(con) as work, score_pairs(work, rate, learn) as found:
        return frame(work, f"SELECT contact_a, contact_b, kind, score, evidence FROM {found.likely}")
