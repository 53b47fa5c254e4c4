"""The list page's dialect fragment (Dialect.nth_in_order, core/views/queries.py) means the same on both stores."""

import pytest

from core.db import open_database, scalar
from core.db.dialect import dialect

pytestmark = pytest.mark.postgres
VALUES = ["b", None, "a", "c", "b", None]


@pytest.fixture
def stores(pg_db):
    duck = open_database()
    yield duck, pg_db
    duck.close()


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("position", [1, 2, 3, 4, 5, 7])
def test_the_nth_value_in_order_agrees_with_a_sort(stores, position, descending):
    """The position-th non-null value as ORDER BY ... NULLS LAST gives it; NULL past the non-null values."""
    non_null = sorted((v for v in VALUES if v is not None), reverse=descending)
    expected = non_null[position - 1] if position <= len(non_null) else None
    rows_sql = " UNION ALL ".join(f"SELECT {'NULL' if v is None else repr(v)} AS v" for v in VALUES)
    for con in stores:
        nth = dialect(con).nth_in_order("CAST(v AS VARCHAR)", "$position", descending)
        assert scalar(con, f"SELECT {nth} FROM ({rows_sql}) AS t", {"position": position}) == expected
