"""The email rule on a column agrees with core.contacts.normalize.normalize_email on every value."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.contacts.normalize import normalize_email
from core.contacts.rules import EMAIL
from core.errors import ContactsError

PARTS = st.sampled_from(["ada", "A.B", "x+y", "a..b", ".a", "a-", "ü", "", "1", "o'neil", "a b", "_"])
DOMAINS = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.org",
        "host.invalid",
        "localhost",
        "a.test",
        "x",
        "mail.co.uk",
        "-bad.com",
        "ex_ample.com",
        "b\u00fccher.de",
        "a.b.c.d.museum",
        "example.com.",
        "1.2.3.4",
        "[127.0.0.1]",
        "a" * 64 + ".com",
    ]
)


def one(value: str) -> str | None:
    try:
        return normalize_email(value)
    except ContactsError:
        return None


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(lambda a, b, d: f"{a}{b}@{d}", PARTS, PARTS, DOMAINS) | st.text(max_size=20), min_size=1, max_size=20
    )
)
def test_batch_and_single_value_agree(values):
    values = [v.strip() or "x" for v in values]
    checked = EMAIL.check_series(pl.Series(values, dtype=pl.String))
    for value, result, reason in zip(values, checked["value"], checked["reason"], strict=True):
        assert result == one(value), value
        assert (reason is None) == (result is not None), value
