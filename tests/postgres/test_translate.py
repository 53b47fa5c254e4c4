"""Placeholders: DuckDB's `?` and `$name` as psycopg's, leaving quoted text, identifiers and comments alone.
(No server needed.)"""

import pytest

from core.db.postgres import postgres_type, translate


@pytest.mark.parametrize(
    ("sql", "params", "expected_sql", "expected_params"),
    [
        ("SELECT ?", [1], "SELECT %s", [1]),
        ("SELECT * FROM t WHERE a = ? AND b = ?", (1, "x"), "SELECT * FROM t WHERE a = %s AND b = %s", [1, "x"]),
        ("SELECT $a, $b_2, $a", {"a": 1, "b_2": 2}, "SELECT %(a)s, %(b_2)s, %(a)s", {"a": 1, "b_2": 2}),
        ("SELECT '?', \"$x\", ? -- ? $y\n", [1], "SELECT '?', \"$x\", %s -- ? $y\n", [1]),
        ("SELECT 'it''s ?', ?", [1], "SELECT 'it''s ?', %s", [1]),
        ("SELECT /* $a ? */ $b", {"b": 1}, "SELECT /* $a ? */ %(b)s", {"b": 1}),
        ("SELECT x LIKE '%a' AND y % 2 = ?", [0], "SELECT x LIKE '%%a' AND y %% 2 = %s", [0]),
        ("SELECT $2, $1", ["one", "two"], "SELECT %(p1)s, %(p0)s", {"p0": "one", "p1": "two"}),
        ("SELECT unnest($ids)", {"ids": ["a"]}, "SELECT unnest(%(ids)s::text[])", {"ids": ["a"]}),
        ("SELECT unnest(?)", [[]], "SELECT unnest(%s::text[])", [[]]),
        ("SELECT unnest(?)", [[1, 2]], "SELECT unnest(%s::bigint[])", [[1, 2]]),
        ("SELECT $x::INTEGER", {"x": "1"}, "SELECT %(x)s::INTEGER", {"x": "1"}),
    ],
)
def test_placeholders(sql, params, expected_sql, expected_params):
    assert translate(sql, params) == (expected_sql, expected_params)


def test_without_parameters_the_text_is_sent_as_it_is():
    assert translate("SELECT '%' || ?", None) == ("SELECT '%' || ?", None)


def test_named_placeholders_need_a_dict():
    with pytest.raises(ValueError, match="dict"):
        translate("SELECT $a", [1])


def test_frame_columns_get_postgres_types():
    import polars as pl

    frame = pl.DataFrame(
        {"id": ["a"], "n": [1], "x": [1.5], "ok": [True], "tags": [["t"]], "at": [None]},
        schema_overrides={"at": pl.Datetime("us")},
    )
    assert [postgres_type(dtype) for dtype in frame.schema.values()] == [
        "text",
        "bigint",
        "double precision",
        "boolean",
        "text[]",
        "timestamp",
    ]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM (SELECT 1) WHERE x", "SELECT * FROM (SELECT 1) AS subquery_1 WHERE x"),
        (
            "SELECT (SELECT list(c) FROM (SELECT c FROM h LIMIT 2))",
            "SELECT (SELECT list(c) FROM (SELECT c FROM h LIMIT 2) AS subquery_1)",
        ),
        ("SELECT * FROM a JOIN (SELECT 1 AS k) ON TRUE", "SELECT * FROM a JOIN (SELECT 1 AS k) AS subquery_1 ON TRUE"),
        ("SELECT * FROM (SELECT ')' AS b)", "SELECT * FROM (SELECT ')' AS b) AS subquery_1"),
        ("SELECT * FROM (SELECT 1) t", "SELECT * FROM (SELECT 1) t"),
        ("SELECT * FROM (SELECT 1) AS t", "SELECT * FROM (SELECT 1) AS t"),
        ("SELECT x IN (SELECT 1) FROM t", "SELECT x IN (SELECT 1) FROM t"),
        ("SELECT * FROM (VALUES (1)) v(x)", "SELECT * FROM (VALUES (1)) v(x)"),
        ("SELECT * FROM unnest($ids) WHERE TRUE", "SELECT * FROM unnest($ids) WHERE TRUE"),
    ],
)
def test_unnamed_subqueries_get_a_name(sql, expected):
    """PostgreSQL 15 wants a name on every subquery in FROM; DuckDB's SQL often leaves it out."""
    assert translate(sql, None)[0] == expected
