"""Likely pairs: contacts that are probably one person although no email or phone says so.

The pipeline: profile every contact (cleaned fields, how common each value is), find candidate pairs by
the blocking rules (`core.duplicates.blocking`), score each candidate Fellegi-Sunter style by the
comparisons (`core.duplicates.comparisons`: every field adds log2(m / u) for the level of agreement it
reaches), fit the prior odds to the data, and keep the pairs whose probability reaches SCORE_FLOOR, with
evidence naming the level each field reached.
"""

import math

import duckdb
import polars as pl

from core.db import frame, scalar
from core.duplicates.blocking import BLOCKING_RULES, candidates_sql
from core.duplicates.comparisons import COMPARISONS, IDENTITY, SIMILARITIES, evidence_sql, weight_sql
from core.duplicates.keys import install_macros

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


# Profile columns whose values' frequencies weigh an exact match: each contact carries how many contacts
# hold its value ({column}_n), and dup_totals how many hold any ({column}_total).
FREQUENCY_COLUMNS = ("fn", "ln", "dob", "pc", "city", "addr")


def _value_counts(column: str) -> str:
    """A join adding how many contacts hold each value of `column`."""
    counts = f"SELECT {column}, count(*) AS n FROM dup_base WHERE {column} IS NOT NULL GROUP BY {column}"
    return f"LEFT JOIN ({counts}) {column} USING ({column})"


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
       {", ".join(f"{c}.n AS {c}_n" for c in FREQUENCY_COLUMNS)}
FROM dup_base b
{chr(10).join(_value_counts(c) for c in FREQUENCY_COLUMNS)};
CREATE OR REPLACE TEMP TABLE dup_totals AS
SELECT count(*) AS n, {", ".join(f"count({c}) AS {c}_total" for c in FREQUENCY_COLUMNS)}
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


def _compared(pairs: str) -> str:
    """CTEs `compared` (similarities) and `identity` (weight, evidence) for the pairs in CTE `pairs`."""
    similarities = ", ".join(f"{sql} AS {name}" for name, sql in SIMILARITIES.items())
    carried = ", ".join(f"a.{column}_n" for column in FREQUENCY_COLUMNS)
    return f"""
    pairs AS ({pairs}),
    compared AS (
        SELECT p.id_a, p.id_b, {carried}, {similarities}
        FROM pairs p JOIN dup_profile a ON a.id = p.id_a JOIN dup_profile b ON b.id = p.id_b
    ),
    identity AS (
        SELECT p.id_a, p.id_b, sum({IDENTITY.weight_sql()}) AS weight,
               string_agg({IDENTITY.evidence_sql()}, '; ' ORDER BY a.field) AS evidence
        FROM pairs p
        JOIN dup_identity a ON a.id = p.id_a
        JOIN dup_identity b ON b.id = p.id_b AND b.field = a.field
        GROUP BY p.id_a, p.id_b
    )"""


def scored_sql(pairs: str, evidence: bool = False) -> str:
    """id_a, id_b, weight (log2 odds before the prior) and, if asked, evidence of the pairs `pairs` selects."""
    said = f", {evidence_sql(COMPARISONS)} AS evidence" if evidence else ""
    return f"""
WITH {_compared(pairs)}
SELECT c.id_a, c.id_b, {weight_sql(COMPARISONS)} AS weight{said}
FROM compared c LEFT JOIN identity i ON i.id_a = c.id_a AND i.id_b = c.id_b CROSS JOIN dup_totals t
"""


# Every candidate's weight; evidence text comes later, only for the pairs that are kept.
WEIGHTS_SQL = f"CREATE OR REPLACE TEMP TABLE dup_weights AS {scored_sql(candidates_sql(BLOCKING_RULES))}"

KEPT_SQL = f"""
SELECT id_a AS contact_a, id_b AS contact_b, 'likely' AS kind,
       round(1.0 / (1.0 + pow(2.0, -(weight + $prior))), 4) AS score, evidence
FROM ({scored_sql("SELECT id_a, id_b FROM dup_weights WHERE weight + $prior >= $floor", evidence=True)})
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


def profile(con: duckdb.DuckDBPyConnection) -> None:
    """Build this connection's temp tables dup_profile, dup_totals and dup_identity, which rules and levels read."""
    install_macros(con)
    con.execute(PROFILE_SQL)
    con.execute(IDENTITY_SQL)


def drop_profile(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables of `profile` and of scoring."""
    for table in ("dup_profile", "dup_identity", "dup_totals", "dup_weights"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def likely_pairs(con: duckdb.DuckDBPyConnection, rate: float | None = None) -> pl.DataFrame:
    """Candidate pairs scored 0-1 with their evidence: contact_a < contact_b, kind, score, evidence.

    `rate` fixes the expected duplicates per contact; by default it is fitted to the data.
    """
    profile(con)
    try:
        con.execute(WEIGHTS_SQL)
        contacts = scalar(con, "SELECT n FROM dup_totals")
        prior = math.log2(rate / max(contacts, 1)) if rate else estimate_prior(con, contacts)
        return frame(con, KEPT_SQL, {"prior": prior, "floor": math.log2(SCORE_FLOOR / (1 - SCORE_FLOOR))})
    finally:
        drop_profile(con)
