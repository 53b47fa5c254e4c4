"""Splink side by side: deduplicate the noisy bench's contacts with Splink, writing its clusters.

Runs in the bench venv (`.venv-bench`, requirements-bench.txt), never in the app's:
`.venv-bench/bin/python bench/splink_run.py CONTACTS.parquet CLUSTERS.parquet` reads the imported contacts,
writes contact_id, cluster_id at match probability 0.9 and prints one JSON line: seconds (training,
prediction and clustering) and peak_mb (this process's own peak resident memory). bench.accuracy scores the
clusters exactly as it scores ours. The model is Splink's usual recipe for people: names by Jaro-Winkler with
term frequencies, email, phone and city; u from random pairs, m by EM blocked on the names, then on the city.
"""

import json
import logging
import resource
import sys
import time

import duckdb
import polars as pl
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

THRESHOLD = 0.9
COLUMNS = ("first_name", "last_name", "email", "phone", "city")


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="contact_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.85]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.85]).configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.DamerauLevenshteinAtThresholds("phone", [1]),
            cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("last_name", "city"),
            block_on("first_name", "city"),
            block_on("email"),
            block_on("phone"),
            block_on("substr(first_name, 1, 2)", "substr(last_name, 1, 3)"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def main() -> None:
    contacts_path, clusters_path = sys.argv[1], sys.argv[2]
    lowered = [pl.col(c).str.to_lowercase().str.strip_chars().replace("", None).alias(c) for c in COLUMNS]
    contacts = pl.read_parquet(contacts_path).select("contact_id", *lowered)
    started = time.perf_counter()
    # Two threads and a memory cap, as the machine our detection runs on has.
    con = duckdb.connect(config={"threads": 2, "memory_limit": "3GB"})
    linker = Linker(DuckDBAPI(connection=con).register(contacts.to_arrow()), settings(), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "city")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("city"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    found = pl.from_arrow(clusters.as_pyarrow_table()).select(pl.col("cluster_id").cast(pl.String), "contact_id")
    seconds = time.perf_counter() - started
    found.write_parquet(clusters_path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


if __name__ == "__main__":
    main()
