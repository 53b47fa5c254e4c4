"""End to end on a small labelled file with real-world noise (bench.noisy): import, detect, and a floor on
pairwise F1 per row of the file."""

from pathlib import Path

import polars as pl

from bench.accuracy import row_accuracy
from bench.noisy import build
from bench.noisy_ceiling import evidence
from core.db import open_database
from core.duplicates import DEFAULT_MIN_SCORE, duplicate_groups, find_duplicates

# Measured 2026-11-30 at 3,000 rows (seed 7): precision 1.0, recall 0.82, F1 0.90; with place weights counted
# over pairs a shared number links, the names' lift, a phone a digit off and three more blocking rules:
# precision 0.993, recall 0.924, F1 0.957.
F1_FLOOR = 0.94


def test_a_noisy_file_through_import_and_detection_keeps_its_f1_floor(tmp_path: Path):
    path = tmp_path / "noisy.duckdb"
    build(3_000, path, seed=7)
    con = open_database(path)
    find_duplicates(con, "admin")
    groups = duplicate_groups(con, DEFAULT_MIN_SCORE).select("group_id", "contact_id")
    con.close()
    result = row_accuracy(groups, pl.read_parquet(path.with_suffix(".truth.parquet")), 0.0)
    assert result.f1 >= F1_FLOOR
    assert result.precision >= 0.95
    # What the true pairs share covers them all, and the ceiling on recall is above what detection reached.
    found = evidence(path)
    assert found.folded + sum(found.kinds.values()) == found.total == result.true_pairs
    assert result.recall <= found.ceiling < 1.0 and found.namesakes > 0
