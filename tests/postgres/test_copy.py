"""Frames copied into PostgreSQL (core.db.postgres copy_rows: CSV written by Polars, row by row when CSV cannot hold
a column) come back as they were, and large scratch relations get the planner's statistics (core.db.scratch)."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from core.db import rows, scratch
from core.db.postgres import copy_csv
from core.db.scratch import STATISTICS_ROWS

pytestmark = pytest.mark.postgres

AWKWARD = ["plain", "", None, 'a "quoted", comma', "line\nbreak", "back\\slash", "\\.", "NULL", "{braces}", "é ß 漢"]


def _round_trip(con, data: pl.DataFrame) -> pl.DataFrame:
    with scratch(con, data) as copied:
        return con.sql(f"SELECT * FROM {copied} ORDER BY i").pl()


def test_awkward_values_come_back_as_they_were(pg_db):
    data = pl.DataFrame(
        {
            "i": list(range(len(AWKWARD))),
            "text": AWKWARD,
            "tags": [[value] if value is not None else None for value in AWKWARD[:-1]] + [["a", None, "", "NULL"]],
            "numbers": [[1, None, -3]] * 5 + [[]] * 4 + [None],
            "flag": [True, False, None] * 3 + [True],
            "amount": [1.5, -0.25, None, 1e-7, 12345678.125] * 2,
            "day": [date(2026, 11, 30), None] * 5,
            "at": [datetime(2026, 11, 30, 8, 45, 1, 123456), None] * 5,
            "at_utc": [datetime(2026, 11, 30, 8, 45, tzinfo=UTC)] * 10,
        }
    )
    assert copy_csv(data) is not None  # the CSV path, not the row-by-row one
    assert _round_trip(pg_db, data).to_dicts() == data.to_dicts()


def test_a_column_csv_cannot_hold_is_copied_row_by_row(pg_db):
    data = pl.DataFrame({"i": [1, 2], "nested": [[[1, 2], [3, 4]], [[5, 6]]]})
    assert copy_csv(data) is None
    with scratch(pg_db, data) as copied:
        assert rows(pg_db, f"SELECT i, nested[1][1] FROM {copied} ORDER BY i") == [(1, 1), (2, 5)]


def test_a_large_scratch_relation_has_statistics_a_small_one_none(pg_db):
    def estimated(relation) -> float:
        return rows(pg_db, "SELECT reltuples FROM pg_class WHERE relname = ?", [relation.name])[0][0]

    large = f"SELECT i FROM generate_series(1, {STATISTICS_ROWS}) AS s(i)"
    with scratch(pg_db, large) as relation:
        assert estimated(relation) == STATISTICS_ROWS
    with scratch(pg_db, pl.DataFrame({"i": range(STATISTICS_ROWS)})) as relation:
        assert estimated(relation) == STATISTICS_ROWS
    with scratch(pg_db, "SELECT 1 AS i") as relation:
        assert estimated(relation) == -1  # never analyzed
