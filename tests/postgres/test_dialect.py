"""Each dialect fragment means the same on DuckDB and PostgreSQL: evaluated on both, the answers agree."""

import json
from datetime import date

import duckdb
import polars as pl
import pytest

from core.db import frame, open_database, rows, scalar, transaction
from core.db.dialect import DUCKDB, POSTGRES, dialect

pytestmark = pytest.mark.postgres
DAY = date(2024, 5, 1)


@pytest.fixture
def stores(pg_db):
    duck = open_database()
    yield duck, pg_db
    duck.close()


def both(stores, build, params=None):
    """The first column of the first row of a query built from each store's dialect, on each store."""
    return [scalar(con, build(dialect(con)), params) for con in stores]


def test_dialect_follows_the_connection(stores):
    duck, pg = stores
    assert dialect(duck) is DUCKDB and dialect(pg) is POSTGRES
    assert dialect(duck.cursor()) is DUCKDB and dialect(pg.cursor()) is POSTGRES


@pytest.mark.parametrize(
    ("build", "params", "expected"),
    [
        (lambda d: f"SELECT {d.list_position('$ids', '$id')}", {"ids": ["a", "b"], "id": "b"}, 2),
        (lambda d: f"SELECT {d.list_position('$ids', '$id')}", {"ids": ["a"], "id": "z"}, None),
        (lambda d: f"SELECT {d.list_contains('$ids', '$id')}", {"ids": ["a", "b"], "id": "b"}, True),
        (lambda d: f"SELECT {d.list_length('$ids')}", {"ids": ["a", "b"]}, 2),
        (lambda d: f"SELECT {d.list_length(d.empty_list())}", None, 0),
        (lambda d: f"SELECT {d.contains('$t', '$p')}", {"t": "50% off", "p": "% o"}, True),
        (lambda d: f"SELECT {d.contains('$t', '$p')}", {"t": "Acme", "p": "acme"}, False),
        (lambda d: f"SELECT {d.regexp_matches('$t', '$p', ignore_case=True)}", {"t": "Mr Smith", "p": "^mr "}, True),
        (lambda d: f"SELECT {d.regexp_matches('$t', '$p')}", {"t": "Mr Smith", "p": "^mr "}, False),
        (lambda d: f"SELECT {d.try_cast('$v', 'DOUBLE')}", {"v": " -1.5e2 "}, -150.0),
        (lambda d: f"SELECT {d.try_cast('$v', 'DOUBLE')}", {"v": "12abc"}, None),
        (lambda d: f"SELECT CAST({d.try_cast('$v', 'TIMESTAMP')} AS DATE)", {"v": "2024-05-01 10:30:00"}, DAY),
        (lambda d: f"SELECT {d.try_cast('$v', 'TIMESTAMP')} IS NULL", {"v": "yesterday-ish"}, True),
        (lambda d: f"SELECT {d.now_local()} IS NOT NULL", None, True),
    ],
)
def test_fragments_agree(stores, build, params, expected):
    assert both(stores, build, params) == [expected, expected]


def test_list_agg_keeps_the_order_asked(stores):
    for con in stores:
        d = dialect(con)
        got = scalar(con, f"SELECT {d.list_agg('x', order_by='x DESC')} FROM (VALUES ('a'), ('c'), ('b')) v(x)")
        assert list(got) == ["c", "b", "a"]


def test_row_json_without_leaves_the_columns_out(stores):
    import json

    for con in stores:
        found = scalar(
            con, f"SELECT {dialect(con).row_json_without('r', ['touches'])} FROM (SELECT 1 AS a, 2 AS touches) r"
        )
        assert json.loads(found) == {"a": 1}


def test_tables_with_column_lists_the_stores_own_tables(stores):
    for con in stores:
        con.execute("CREATE TEMP TABLE scratch_thing (contact_id VARCHAR)")
        found = [table for (table,) in rows(con, *dialect(con).tables_with_column("contact_id"))]
        assert "notes" in found and "contacts" in found and "scratch_thing" not in found


def test_upsert_replaces_by_key(stores):
    for con in stores:
        sql = dialect(con).upsert("settings", ["key", "value"], ["key"])
        con.execute(sql, {"key": "default_country", "value": "FR"})
        con.execute(sql, {"key": "brand_new", "value": "x"})
        assert scalar(con, "SELECT value FROM settings WHERE key = 'default_country'") == "FR"
        assert scalar(con, "SELECT value FROM settings WHERE key = 'brand_new'") == "x"


def test_duckdb_is_the_raw_connection():
    """The DuckDB store is not wrapped: its speed is what it was."""
    con = open_database()
    assert isinstance(con, duckdb.DuckDBPyConnection)
    con.close()


@pytest.mark.parametrize(
    ("build", "params", "expected"),
    [
        (lambda d: f"SELECT {d.lower('$t')}", {"t": "ÄRGER Lucía ÉMILE"}, "ärger lucía émile"),
        (
            lambda d: f"SELECT {d.split_words('$t')}",
            {"t": "Lucía.Gómez-O'Brien 42"},
            ["lucía", "gómez", "o", "brien", "42"],
        ),
        (lambda d: f"SELECT {d.split_words('$t')}", {"t": "(Ana) "}, ["", "ana", ""]),
        (lambda d: f"SELECT {d.split_words('$t')}", {"t": "Đặng_Thị 山田"}, ["đặng", "thị", "山田"]),
        (lambda d: f"SELECT {d.list_of(['$a', '$b'])}", {"a": "x", "b": "y"}, ["x", "y"]),
        (lambda d: f"SELECT {d.list_agg('i', order_by='i')} FROM {d.integer_range('1', '4')} AS r(i)", None, [1, 2, 3]),
        (lambda d: f"SELECT count(*) FROM {d.integer_range('1', '1')} AS r(i)", None, 0),
        (lambda d: "SELECT any_value(x) FROM (VALUES (NULL), (3), (NULL)) v(x)", None, 3),
        (lambda d: "SELECT suffix($t, $p), suffix($t, $t || 'x')", {"t": "smith", "p": "ith"}, True),
        (lambda d: "SELECT regexp_matches($t, $p, 'i')", {"t": "Mr. Smith", "p": r"(^|[^[:alnum:]_])(mr\.)"}, True),
        (lambda d: "SELECT regexp_matches($t, $p)", {"t": "Mr Smith", "p": "^mr "}, False),
        (lambda d: f"SELECT {d.mode('x')} FROM (VALUES ('a'), ('b'), ('b'), (NULL), (NULL), (NULL)) v(x)", None, "b"),
        (lambda d: d.database_file_sql(), None, None),  # in-memory DuckDB; PostgreSQL is never a file
        (
            lambda d: (
                "SELECT count(*) FROM (VALUES ('a'), ('b'), ('c')) o(k) WHERE o.k = 'b' OR "
                + d.held_by("o.k", "FROM (VALUES ('a'), ('c'), ('c'), ('d')) i(k) WHERE i.k <> 'd'", "i.k")
            ),
            None,
            3,
        ),
    ],
)
def test_text_and_list_fragments_agree(stores, build, params, expected):
    assert [list(found) if isinstance(found, list | tuple) else found for found in both(stores, build, params)] == [
        expected,
        expected,
    ]


@pytest.mark.parametrize(
    "format", ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "on %d/%m at %Hh (TH DDTH) 100%%", 'say "%Y"']
)
def test_strftime_reads_as_on_duckdb(stores, format):
    sql = "SELECT strftime(CAST($at AS TIMESTAMP), $format)"
    found = [scalar(con, sql, {"at": "2024-05-01 09:05:07.012345", "format": format}) for con in stores]
    assert found[0] == found[1], found


def test_json_objects_agree(stores):
    for con in stores:
        d = dialect(con)
        got = scalar(
            con,
            f"SELECT CAST({d.json_object([('before', 'NULL'), ('after', 'CAST($v AS VARCHAR)')])} AS VARCHAR)",
            {"v": "Zoë"},
        )
        assert json.loads(got) == {"before": None, "after": "Zoë"}
    with pytest.raises(ValueError):
        DUCKDB.json_object([("x'); DROP TABLE contacts; --", "1")])


def test_record_lists_read_alike(stores):
    """A list of records: DuckDB's structs, PostgreSQL's JSON text decoded by Polars, the same frame."""
    found = []
    for con in stores:
        d = dialect(con)
        fields = ["value", "label"]
        data = frame(
            con,
            f"SELECT k, coalesce({d.record_list_agg(fields, 'p', 'value IS NOT NULL')}, "
            f"{d.empty_record_list(fields)}) AS r "
            "FROM (VALUES (1, 'b', NULL, 2), (1, 'a', 'work', 1), (2, NULL, NULL, 1)) t(k, value, label, p) "
            "GROUP BY k ORDER BY k",
        )
        if data.schema["r"] == pl.String:
            data = data.with_columns(
                pl.col("r").str.json_decode(pl.List(pl.Struct({"value": pl.String, "label": pl.String})))
            )
        found.append(data.to_dicts())
    assert (
        found[0]
        == found[1]
        == [
            {"k": 1, "r": [{"value": "a", "label": "work"}, {"value": "b", "label": None}]},
            {"k": 2, "r": []},
        ]
    )


def test_storage_order_and_threads_setting(stores):
    for con in stores:
        d = dialect(con)
        con.execute("CREATE TEMP TABLE so (x INTEGER)")
        con.execute("INSERT INTO so VALUES (3), (1), (2)")
        assert [r[0] for r in rows(con, f"SELECT x FROM so ORDER BY {d.storage_order('so')}")] == [3, 1, 2]
    assert DUCKDB.threads_setting == "threads" and POSTGRES.threads_setting is None


@pytest.mark.parametrize(
    ("build", "params", "expected"),
    [
        (
            lambda d: f"SELECT {d.list_concat_new('$a', '$b')}",
            {"a": ["x", "y"], "b": ["z", "y", "w"]},
            ["x", "y", "z", "w"],
        ),
        (lambda d: f"SELECT {d.list_concat_new('$a', '$b')}", {"a": ["x"], "b": ["x"]}, ["x"]),
        (lambda d: f"SELECT {d.list_without('$a', '$b')}", {"a": ["c", "a", "b"], "b": ["a", "z"]}, ["c", "b"]),
        (lambda d: f"SELECT {d.list_without('$a', '$b')}", {"a": ["a"], "b": ["a"]}, []),
        (lambda d: f"SELECT {d.list_has_all('$a', '$b')}", {"a": ["x", "y"], "b": ["y", "x"]}, True),
        (lambda d: f"SELECT {d.list_has_all('$a', '$b')}", {"a": ["x"], "b": ["x", "y"]}, False),
        (lambda d: f"SELECT {d.list_has_any('$a', '$b')}", {"a": ["x", "y"], "b": ["q", "y"]}, True),
        (lambda d: f"SELECT {d.list_has_any('$a', '$b')}", {"a": ["x"], "b": ["q"]}, False),
    ],
)
def test_list_set_fragments_agree(stores, build, params, expected):
    assert [list(found) if isinstance(found, list | tuple) else found for found in both(stores, build, params)] == [
        expected,
        expected,
    ]


def test_an_empty_list_fits_the_type_its_statement_needs(stores):
    """DuckDB's empty list fits any list type; on PostgreSQL it is tried as text[] then bigint[], under a savepoint
    inside a transaction so a refused try leaves the transaction usable."""
    for con in stores:
        con.execute("CREATE TEMP TABLE keyed (k BIGINT, name VARCHAR)")
        con.execute("INSERT INTO keyed VALUES (1, 'a')")
        assert scalar(con, "SELECT count(*) FROM keyed WHERE k IN (SELECT unnest($keys))", {"keys": []}) == 0
        assert scalar(con, "SELECT count(*) FROM keyed WHERE name IN (SELECT unnest($names))", {"names": []}) == 0
        with transaction(con):
            found = scalar(con, "SELECT count(*) FROM keyed WHERE k NOT IN (SELECT unnest(?))", [[]])
            con.execute("INSERT INTO keyed VALUES (2, 'b')")
        assert found == 1
        assert scalar(con, "SELECT count(*) FROM keyed") == 2


@pytest.mark.parametrize("text", ["", "abc", "Zoë 🙂", "webchat|visitor0000001|2026-11-25T09:00:00.000000|Hi"])
def test_md5_number_and_uhugeint_agree(stores, text):
    """Migration 027: PostgreSQL's md5_number() is DuckDB's bit for bit, and CAST(... AS UHUGEINT) reads a key."""
    found = [int(scalar(con, "SELECT md5_number($t)", {"t": text})) for con in stores]
    assert found[0] == found[1]
    biggest = str(2**128 - 1)
    assert [int(scalar(con, "SELECT CAST($k AS UHUGEINT)", {"k": biggest})) for con in stores] == [2**128 - 1] * 2


def test_insert_order_keeps_the_rows_inserted(stores):
    for con in stores:
        con.execute("CREATE TEMP TABLE io_source (k INTEGER, v INTEGER)")
        con.execute("INSERT INTO io_source VALUES (2, 1), (1, 2), (1, 1), (1, 1)")
        con.execute("CREATE TEMP TABLE io_target (k INTEGER, v INTEGER)")
        order = dialect(con).insert_order("s.k, s.v")
        con.execute(f"INSERT INTO io_target SELECT DISTINCT s.k, s.v FROM io_source s{order}")
        assert rows(con, "SELECT k, v FROM io_target ORDER BY k, v") == [(1, 1), (1, 2), (2, 1)]
    assert DUCKDB.insert_order("k") == "" and POSTGRES.insert_order("k, v") == " ORDER BY k, v"


def test_items_once(stores):
    for con in stores:
        d = dialect(con)
        held = rows(con, f"SELECT item FROM {d.items_once('contacts c', 'c.tags', 'NOT c.blocked')} t ORDER BY item")
        assert held == []  # no contacts: nothing, on both stores
        con.execute("CREATE TEMP TABLE io_lists (id INTEGER, tags VARCHAR[])")
        con.execute(
            "INSERT INTO io_lists VALUES (1, ?), (2, ?), (3, ?), (4, ?)", [["vip", "new", "vip"], ["vip"], [], None]
        )
        items = rows(con, f"SELECT item FROM {d.items_once('io_lists s', 's.tags', 's.id < 4')} t ORDER BY item")
        assert items == [("new",), ("vip",), ("vip",)]


def test_few_groups_key(stores):
    for con in stores:
        joined, key = dialect(con).few_groups_key("substr(s.phone, 2, 1)", "lead")
        con.execute("CREATE TEMP TABLE fg_source (phone VARCHAR)")
        con.execute("INSERT INTO fg_source VALUES ('+44'), ('+49'), ('+1'), (NULL)")
        found = rows(con, f"SELECT {key} AS k, count(*) FROM fg_source s{joined} GROUP BY {key} ORDER BY k NULLS LAST")
        assert found == [("1", 1), ("4", 2), (None, 1)]
    assert DUCKDB.few_groups_key("x", "k") == ("", "x")


def test_reads_at_once_where_the_server_schedules_its_own_work():
    assert POSTGRES.reads_at_once and not DUCKDB.reads_at_once
