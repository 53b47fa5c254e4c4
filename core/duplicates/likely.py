"""Likely pairs: contacts that are probably one person although no email or phone says so.

The pipeline: profile every contact (cleaned fields, sound keys and usual forms of names, how common each
value is), find candidate pairs by the blocking rules (`core.duplicates.blocking`), compute each candidate's
level per comparison once (`core.duplicates.comparisons`), learn m and u from this database
(`core.duplicates.learning`: u from random pairs, m by EM over the candidates' level patterns), weigh every
candidate Fellegi-Sunter style, fit the prior odds to the data, and keep the pairs whose probability reaches
SCORE_FLOOR, with evidence naming the level each field reached and its learned weight. Groups of three or
more are then checked pair by pair, so a pair inside a group that the evidence says are different people
(a conflict) can split it (`core.duplicates.groups`).
"""

import math
from dataclasses import dataclass, field

import duckdb
import polars as pl

from core.db import frame, scalar
from core.duplicates.blocking import BLOCKING_RULES, Rule, candidates_sql, rule_counts_sql
from core.duplicates.comparisons import (
    COMPARISONS,
    IDENTITY,
    SIMILARITIES,
    SWAPPED_SQL,
    TERMS,
    Comparison,
    evidence_sql,
    weight_sql,
)
from core.duplicates.groups import components
from core.duplicates.keys import install_macros
from core.duplicates.learning import Fit, learn_m, learned_comparisons, u_from_random_pairs
from core.duplicates.names import install_name_macros

# Likely pairs scoring below this are not kept at all.
SCORE_FLOOR = 0.5
# Expected duplicates per contact before the data says otherwise: two random contacts of N are one person
# with odds about this / N. The fitted rate stays within MIN_RATE and MAX_RATE.
DUPLICATE_RATE, MIN_RATE, MAX_RATE = 0.1, 0.01, 2.0
# Random pairs drawn to estimate u.
U_SAMPLE = 300_000
# Groups up to this size have every pair inside them scored, to find members that are different people.
CHECKED_GROUP = 25
# Inside a group, a pair whose evidence (before the prior) weighs below this is two different people.
CONFLICT_WEIGHT = 0.0


def _clean(column: str) -> str:
    """Lower-case letters and digits only: accents, punctuation and spaces do not tell people apart."""
    return f"nullif(regexp_replace(lower(strip_accents(trim({column}))), '[^a-z0-9]', '', 'g'), '')"


def _words(column: str) -> str:
    """Lower-case words separated by single spaces."""
    return f"nullif(trim(regexp_replace(lower(strip_accents({column})), '[^a-z0-9]+', ' ', 'g')), '')"


def _value_counts(column: str) -> str:
    """A join adding how many contacts hold each value of `column`."""
    counts = f"SELECT {column}, count(*) AS n FROM dup_base WHERE {column} IS NOT NULL GROUP BY {column}"
    return f"LEFT JOIN ({counts}) {column} USING ({column})"


# Generated names ("Brave Otter") are not a person's name: they never count as evidence. An email's local
# part of fewer than three characters says too little to block on.
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
       phone AS ph,
       CASE WHEN length(dup_local(ek)) >= 3 THEN dup_local(ek) END AS el
FROM contacts;
CREATE OR REPLACE TEMP TABLE dup_profile AS
SELECT b.*, coalesce(nick.usual, b.fn) AS fc, dup_sound(b.fn) AS fs, dup_sound(b.ln) AS ls,
       array_to_string(list_sort(string_split(b.addr, ' ')), ' ') AS addr_sorted,
       {", ".join(f"{c}.n AS {c}_n" for c in TERMS)}
FROM dup_base b
LEFT JOIN dup_nicknames nick ON nick.name = b.fn
{chr(10).join(_value_counts(c) for c in TERMS)};
CREATE OR REPLACE TEMP TABLE dup_totals AS
SELECT count(*) AS n, {", ".join(f"count({c}) AS {c}_total" for c in TERMS)}
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

LEVEL_COLUMNS = tuple(c.column for c in COMPARISONS)


def levels_sql(pairs: str, carried: tuple[str, ...] = ()) -> str:
    """Per pair of `pairs` (id_a, id_b, then `carried`): each comparison's level index, the identity field's
    label and every term's share of contacts (for term-frequency weights)."""
    similarities = ", ".join(f"{sql} AS {name}" for name, sql in SIMILARITIES.items())
    indexes = ", ".join(
        f"({c.index_sql()})::UTINYINT AS {c.column}" for c in COMPARISONS if c.column != IDENTITY.column
    )
    shares = ", ".join(f"a.{term}_n / t.{term}_total AS {term}_share" for term in TERMS)
    kept = "".join(f", {column}" for column in carried)
    none = len(IDENTITY.levels)
    return f"""
WITH pairs AS ({pairs}),
identity AS (
    SELECT id_a, id_b, min(i) AS g_identity, arg_min(label, i) AS identity_label, arg_min(share, i) AS identity_share
    FROM (SELECT p.id_a, p.id_b, a.label, a.n / a.total AS share, {IDENTITY.index_sql()} AS i
          FROM pairs p JOIN dup_identity a ON a.id = p.id_a JOIN dup_identity b ON b.id = p.id_b AND b.field = a.field)
    GROUP BY id_a, id_b
),
joined AS (
    SELECT p.*, a, b, coalesce(i.g_identity, {none})::UTINYINT AS g_identity, i.identity_label, i.identity_share
    FROM pairs p JOIN dup_profile a ON a.id = p.id_a JOIN dup_profile b ON b.id = p.id_b
    LEFT JOIN identity i ON i.id_a = p.id_a AND i.id_b = p.id_b
),
turned AS (SELECT *, {SWAPPED_SQL} AS swapped FROM joined),
compared AS (SELECT *, {similarities} FROM turned)
SELECT id_a, id_b{kept}, {indexes}, g_identity, identity_label, identity_share, {shares}
FROM compared CROSS JOIN dup_totals t
"""


def random_pairs_sql(contacts: int, sample: int = U_SAMPLE) -> str:
    """About `sample` pairs of distinct contacts drawn at random (every pair when there are fewer)."""
    if contacts * (contacts - 1) // 2 <= sample:
        return "SELECT a.id AS id_a, b.id AS id_b FROM dup_profile a JOIN dup_profile b ON a.id < b.id"
    rounds = max(1, math.ceil(sample / max(contacts, 1)))
    # Two orders of the contacts by unrelated hashes, lined up by rank: a random pairing, the same every run.
    return f"""
    WITH rounds AS (SELECT range AS salt FROM range({rounds})),
    a AS (SELECT id, salt, row_number() OVER (PARTITION BY salt ORDER BY hash(id, salt)) AS r FROM dup_profile, rounds),
    b AS (SELECT id, salt, row_number() OVER (PARTITION BY salt ORDER BY hash(id, salt + 7919)) AS r
          FROM dup_profile, rounds)
    SELECT least(a.id, b.id) AS id_a, greatest(a.id, b.id) AS id_b
    FROM a JOIN b ON a.salt = b.salt AND a.r = b.r AND a.id <> b.id LIMIT {sample}
    """


def exact_u(con: duckdb.DuckDBPyConnection, term: str) -> float | None:
    """The chance two contacts that both hold a value of `term` hold the same one; None when too few hold one."""
    [(held, same)] = con.execute(
        f"SELECT sum(n), sum(n * (n - 1)) FROM (SELECT count(*) AS n FROM dup_profile WHERE {term} IS NOT NULL "
        f"GROUP BY {term})"
    ).fetchall()
    if not held or held < 2 or not same:
        return None
    return float(same) / (float(held) * (float(held) - 1))


@dataclass
class Model:
    """What was learned: the comparisons with their m and u, the prior log2 odds, and EM's fits per rule."""

    comparisons: tuple[Comparison, ...]
    prior: float
    fits: dict[str, Fit] = field(default_factory=dict)

    def weights(self) -> list[dict[str, object]]:
        """One row per level that speaks: field, level, m, u and weight (log2 m / u), as learned."""
        return [
            {"field": c.field, "level": level.label, "m": level.m, "u": level.u, "weight": round(level.weight, 2)}
            for c in self.comparisons
            for level in c.levels
            if not level.silent
        ]


@dataclass
class Detection:
    """A likely-duplicate run: the kept pairs, the conflicts inside groups, each rule's pairs and the model."""

    pairs: pl.DataFrame
    conflicts: pl.DataFrame
    rule_pairs: dict[str, int]
    model: Model


def learn(
    con: duckdb.DuckDBPyConnection, rules: tuple[Rule, ...] = BLOCKING_RULES
) -> tuple[tuple[Comparison, ...], dict[str, Fit]]:
    """m and u for every comparison, learned from dup_levels (the candidates) and random pairs."""
    contacts = scalar(con, "SELECT n FROM dup_totals") or 0
    sample = frame(con, f"SELECT {', '.join(LEVEL_COLUMNS)} FROM ({levels_sql(random_pairs_sql(contacts))})")
    u = u_from_random_pairs(COMPARISONS, sample)
    for k, comparison in enumerate(COMPARISONS):
        for i, level in enumerate(comparison.levels):
            exact = exact_u(con, level.term) if level.u_from_counts and level.term else None
            if exact:
                u[k][i] = exact
    patterns = frame(con, f"SELECT rules, {', '.join(LEVEL_COLUMNS)}, count(*) AS n FROM dup_levels GROUP BY ALL")
    m, fits = learn_m(COMPARISONS, patterns, u, rules)
    return learned_comparisons(COMPARISONS, m, u), fits


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


def profile(con: duckdb.DuckDBPyConnection) -> None:
    """Build this connection's temp tables dup_profile, dup_totals and dup_identity, which rules and levels read."""
    install_macros(con)
    install_name_macros(con)
    con.execute(PROFILE_SQL)
    con.execute(IDENTITY_SQL)


def drop_profile(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables of `profile` and of scoring."""
    for table in ("dup_profile", "dup_identity", "dup_totals", "dup_candidates", "dup_levels", "dup_weights"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def scored_sql(comparisons: tuple[Comparison, ...], levels: str = "dup_levels", evidence: bool = False) -> str:
    """id_a, id_b, weight (log2 odds before the prior) and, if asked, evidence of the rows of `levels`."""
    said = f", {evidence_sql(comparisons)} AS evidence" if evidence else ""
    return f"SELECT id_a, id_b, {weight_sql(comparisons)} AS weight{said} FROM {levels}"


def score_pairs(
    con: duckdb.DuckDBPyConnection, pairs: str, comparisons: tuple[Comparison, ...] = COMPARISONS
) -> pl.DataFrame:
    """id_a, id_b, weight and evidence of the pairs `pairs` selects (needs `profile` first)."""
    return frame(con, scored_sql(comparisons, f"({levels_sql(pairs)})", evidence=True))


def _kept(con: duckdb.DuckDBPyConnection, model: Model) -> pl.DataFrame:
    """The candidates at or above SCORE_FLOOR with their score, evidence and weight; evidence is built for them only."""
    floor = math.log2(SCORE_FLOOR / (1 - SCORE_FLOOR))
    chosen = f"""(SELECT * FROM dup_levels SEMI JOIN
        (SELECT id_a, id_b FROM dup_weights WHERE weight + {model.prior!r} >= {floor!r}) USING (id_a, id_b))"""
    return frame(
        con,
        f"""
        SELECT id_a AS contact_a, id_b AS contact_b, 'likely' AS kind,
               round(1.0 / (1.0 + pow(2.0, -(weight + $prior))), 4) AS score, evidence, weight
        FROM ({scored_sql(model.comparisons, chosen, evidence=True)})
        """,
        {"prior": model.prior},
    )


def _inside_groups(con: duckdb.DuckDBPyConnection, kept: pl.DataFrame, model: Model) -> pl.DataFrame:
    """Every pair inside the groups of 3 to CHECKED_GROUP that the kept pairs form, scored."""
    groups = components(kept)
    sizes = groups.group_by("group_id").len()
    checked = groups.join(sizes.filter(pl.col("len").is_between(3, CHECKED_GROUP)), on="group_id")
    inside = (
        checked.join(checked, on="group_id", suffix="_b")
        .filter(pl.col("contact_id") < pl.col("contact_id_b"))
        .select(pl.col("contact_id").alias("id_a"), pl.col("contact_id_b").alias("id_b"))
    )
    if inside.is_empty():
        return pl.DataFrame(schema={"id_a": pl.String, "id_b": pl.String, "weight": pl.Float64, "evidence": pl.String})
    con.register("dup_inside", inside)
    try:
        return score_pairs(con, "SELECT id_a, id_b FROM dup_inside", model.comparisons)
    finally:
        con.unregister("dup_inside")


def _score(weight: pl.Expr, prior: float) -> pl.Expr:
    return (1.0 / (1.0 + (2.0 ** (-(weight + prior))))).round(4)


def detect_likely(con: duckdb.DuckDBPyConnection, rate: float | None = None) -> Detection:
    """Likely pairs with their evidence, the conflicts inside their groups, each rule's pair count and the model.

    `rate` fixes the expected duplicates per contact; by default it is fitted to the data.
    """
    profile(con)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE dup_candidates AS {candidates_sql(BLOCKING_RULES)}")
        [counts] = con.execute(rule_counts_sql(BLOCKING_RULES)).fetchall()
        rule_pairs = {rule.label: int(n) for rule, n in zip(BLOCKING_RULES, counts, strict=True)}
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE dup_levels AS {levels_sql('SELECT * FROM dup_candidates', ('rules',))}"
        )
        comparisons, fits = learn(con)
        con.execute(f"CREATE OR REPLACE TEMP TABLE dup_weights AS {scored_sql(comparisons)}")
        contacts = scalar(con, "SELECT n FROM dup_totals") or 0
        prior = math.log2(rate / max(contacts, 1)) if rate else estimate_prior(con, contacts)
        model = Model(comparisons, prior, fits)
        kept = _kept(con, model)
        inside = _inside_groups(con, kept, model).with_columns(score=_score(pl.col("weight"), prior))
        extra = (
            inside.filter(pl.col("score") >= SCORE_FLOOR)
            .rename({"id_a": "contact_a", "id_b": "contact_b"})
            .join(kept, on=["contact_a", "contact_b"], how="anti")
            .with_columns(kind=pl.lit("likely"))
        )
        pairs = pl.concat([kept, extra.select(kept.columns)]).drop("weight")
        conflicts = inside.filter(pl.col("weight") < CONFLICT_WEIGHT).select(
            pl.col("id_a").alias("contact_a"), pl.col("id_b").alias("contact_b"), "score", "evidence"
        )
        return Detection(pairs, conflicts, rule_pairs, model)
    finally:
        drop_profile(con)


def likely_pairs(con: duckdb.DuckDBPyConnection, rate: float | None = None) -> pl.DataFrame:
    """Candidate pairs scored 0-1 with their evidence: contact_a < contact_b, kind, score, evidence.

    `rate` fixes the expected duplicates per contact; by default it is fitted to the data.
    """
    return detect_likely(con, rate).pairs
