"""The scoring's shortcuts (core.duplicates.comparisons.same_or, one_edit) answer exactly what the plain
similarity answers: they only skip work whose result is known beforehand."""

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from core.duplicates.comparisons import one_edit, same_or

# Short strings over few characters, so equal values, one edit and two edits all come up often.
TEXT = st.one_of(st.none(), st.text(alphabet="+0129ab", max_size=9))
CON = duckdb.connect()


def _answers(sql: str, a: str | None, b: str | None) -> object:
    [(found,)] = CON.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS x, ?::VARCHAR AS y)", [a, b]).fetchall()
    return found


@settings(max_examples=400, deadline=None)
@given(TEXT, TEXT)
def test_one_edit_is_an_edit_distance_of_one(a: str | None, b: str | None) -> None:
    assert _answers(one_edit("x", "y"), a, b) == _answers("damerau_levenshtein(x, y) = 1", a, b)


@given(TEXT, TEXT)
@settings(max_examples=200, deadline=None)
def test_same_or_is_the_similarity(a: str | None, b: str | None) -> None:
    for similarity in (
        "jaro_winkler_similarity(x, y)",
        "1.0 - damerau_levenshtein(x, y) / greatest(length(x), length(y))",
    ):
        if a == b == "":
            continue  # blank values are NULL in the profile; the plain formula would divide by zero
        assert _answers(same_or("x", "y", similarity), a, b) == _answers(similarity, a, b)


def test_one_edit_on_numbers() -> None:
    assert _answers(one_edit("x", "y"), "+15550100", "+15550109") is True  # last digit
    assert _answers(one_edit("x", "y"), "+15550100", "+51550100") is True  # first two swapped
    assert _answers(one_edit("x", "y"), "+15550100", "+155501000") is True  # one added
    assert _answers(one_edit("x", "y"), "+15550100", "+15550100") is False
    assert _answers(one_edit("x", "y"), "+15550100", "+15551199") is False
    assert _answers(one_edit("x", "y"), None, "+15550100") is None
