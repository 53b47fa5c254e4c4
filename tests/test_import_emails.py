"""The set-based email check agrees with core.contacts.normalize.normalize_email on every value."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from core.contacts.normalize import normalize_email
from core.errors import ContactsError
from core.importer.planning import _clean_email

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


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(lambda a, b, d: f"{a}{b}@{d}", PARTS, PARTS, DOMAINS) | st.text(max_size=20), min_size=1, max_size=20
    )
)
def test_batch_and_single_value_agree(values):
    values = [v.strip() or "x" for v in values]
    frame = pl.DataFrame({"__line": range(len(values)), "email": values})
    cleaned, errors = _clean_email(frame, "Email")
    rejected = set(errors[0]["line"].to_list())
    for line, (value, result) in enumerate(zip(values, cleaned["email"].to_list(), strict=True)):
        expected = one(value)
        assert (result if line not in rejected else None) == expected, value
