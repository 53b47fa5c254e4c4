"""Email and phone normalisation, one value at a time and in batches."""

import string
from collections import Counter

import phonenumbers
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import core.contacts.normalize
from core.contacts.normalize import (
    is_e164,
    normalize_email,
    normalize_emails,
    normalize_phone,
    normalize_phones,
    phone_digits,
)
from core.errors import ContactsError

# --- email -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada@Example.COM ", "ada@example.com"),
        ("ADA.LOVELACE@EXAMPLE.CO.UK", "ada.lovelace@example.co.uk"),
        ("ada+news@example.com\t", "ada+news@example.com"),
    ],
)
def test_email_is_trimmed_and_lower_cased(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada lovelace@example.com",
        "ada@exa mple.com",
        "ada..l@example.com",
        "<ada@example.com>",
    ],
)
def test_invalid_email_raises_for_the_email_field(typed):
    with pytest.raises(ContactsError) as raised:
        normalize_email(typed)
    assert raised.value.field == "email"
    assert "\n" not in raised.value.message


@pytest.mark.parametrize(
    "domain", ["doe.invalid", "host.test", "docs.example", "box.localhost", "printer.local", "abc.onion", "x.arpa"]
)
def test_an_address_on_a_special_use_or_reserved_domain_is_kept(domain):
    # Thunderbird's exports use .invalid throughout; well-formed is enough, deliverable is not asked.
    assert normalize_email(f" John@{domain.upper()} ") == f"john@{domain}"
    result = normalize_emails(pl.Series([f"john@{domain}", f"Jane@B\u00fccher.{domain}"]))
    assert result.rows() == [(f"john@{domain}", None), (f"jane@b\u00fccher.{domain}", None)]


@pytest.mark.parametrize("typed", ["ada@localhost", "ada@test", "ada@invalid"])
def test_a_bare_reserved_name_still_lacks_its_period(typed):
    with pytest.raises(ContactsError, match="period"):
        normalize_email(typed)


_atoms = st.text(alphabet=string.ascii_letters + string.digits + "_+-", min_size=1, max_size=8)
_labels = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8)
_top_level = st.text(alphabet=string.ascii_letters, min_size=2, max_size=6)
_emails = st.builds(
    lambda local, labels, tld: ".".join(local) + "@" + ".".join([*labels, tld]),
    st.lists(_atoms, min_size=1, max_size=3),
    st.lists(_labels, min_size=1, max_size=3),
    _top_level,
)


@pytest.mark.slow
@given(email=_emails, padding=st.sampled_from(["", " ", "  ", "\t"]))
@settings(max_examples=100)
def test_email_normalisation_lower_cases_trims_and_is_idempotent(email, padding):
    stored = normalize_email(padding + email + padding)
    assert stored == email.lower()
    assert normalize_email(stored) == stored
    assert normalize_email(email.upper()) == stored


@given(text=st.text(max_size=40))
@settings(max_examples=100)
def test_email_normalisation_of_any_text_is_idempotent_or_refused(text):
    try:
        stored = normalize_email(text)
    except ContactsError as error:
        assert error.field == "email"
        return
    assert normalize_email(stored) == stored


# --- phone, one value --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("(415) 555-0132", "US", "+14155550132"),
        ("415.555.0132", "US", "+14155550132"),
        ("415-555-0132", "US", "+14155550132"),
        ("4155550132", "US", "+14155550132"),
        ("1-415-555-0132", "US", "+14155550132"),
        ("+1 415 555 0132", "US", "+14155550132"),
        ("+1 (415) 555-0132", "US", "+14155550132"),
        ("  +14155550132  ", "US", "+14155550132"),
        ("+1 415 555 0132", "GB", "+14155550132"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("+44 020 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),
        ("+39 06 1234 5678", "US", "+390612345678"),
    ],
)
def test_phone_is_stored_in_e164_whatever_its_formatting(typed, country, stored):
    assert normalize_phone(typed, country) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "abc",
        "call me",
        "12",
        "+1 415 555",
        "+1 415 555 0132 1234",
        "+999 1234 5678",
        "555-0132",
        "",
        "   ",
    ],
)
def test_phone_that_cannot_be_a_number_raises_for_the_phone_field(typed):
    with pytest.raises(ContactsError) as raised:
        normalize_phone(typed)
    assert raised.value.field == "phone"
    assert raised.value.message


def test_a_local_number_without_area_code_says_so():
    with pytest.raises(ContactsError, match="area code"):
        normalize_phone("555-0132")


def test_phone_digits_and_is_e164():
    assert phone_digits("(415) 555-0132") == "4155550132"
    assert phone_digits("+44 (0)20") == "44020"
    assert is_e164("+14155550132")
    assert not is_e164("14155550132")
    assert not is_e164("+1 415 555 0132")
    assert not is_e164("+0123456789")


# --- phone properties --------------------------------------------------------------------------

_EXAMPLES = [
    (region, number)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
]


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A valid number of some region: an example number with its last digits redrawn."""
    region, example = draw(st.sampled_from(_EXAMPLES))
    national = phonenumbers.national_significant_number(example)
    keep = len(national) - draw(st.integers(0, min(4, len(national) - 2)))
    tail = draw(st.text(alphabet=string.digits, min_size=len(national) - keep, max_size=len(national) - keep))
    candidate = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{tail}")
    assume(phonenumbers.is_valid_number(candidate))
    return region, candidate


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@given(valid_numbers())
@settings(max_examples=50, deadline=None)
def test_normalize_phone_is_idempotent_on_valid_numbers(drawn):
    _, number = drawn
    e164 = _e164(number)
    assert normalize_phone(e164) == e164
    assert normalize_phone(normalize_phone(e164)) == e164


@given(text=st.text(alphabet=string.digits + " +-.()/x", max_size=20))
@settings(max_examples=50, deadline=None)
def test_normalize_phone_of_any_text_is_idempotent_or_refused(text):
    try:
        stored = normalize_phone(text)
    except ContactsError as error:
        assert error.field == "phone"
        return
    assert stored.startswith("+") and stored[1:].isdigit()
    assert normalize_phone(stored) == stored


_SEPARATORS = st.sampled_from(["", "", " ", "-", ".", "(", ")", " (", ") ", "/", "  "])


@given(valid_numbers(), st.data())
@settings(max_examples=50, deadline=None)
def test_formatting_variants_normalise_to_the_same_e164(drawn, data):
    _, number = drawn
    e164 = _e164(number)
    digits = e164[1:]
    separators = data.draw(st.lists(_SEPARATORS, min_size=len(digits), max_size=len(digits)))
    formatted = "+" + "".join(sep + digit for sep, digit in zip(separators, digits, strict=True))
    assert normalize_phone(formatted) == e164


@given(valid_numbers())
@settings(max_examples=50, deadline=None)
def test_national_and_international_formats_normalise_to_the_same_e164(drawn):
    region, number = drawn
    e164 = _e164(number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert normalize_phone(international) == e164
    assert normalize_phone(national, region) == e164


def _reference(value: str | None, country: str = "US") -> tuple[str | None, bool]:
    """What the parser alone says: (E.164 or None, whether it is an error)."""
    if value is None or not value.strip():
        return None, False
    e164, error = core.contacts.normalize._parse_phone(value.strip(), country)
    return e164, error is not None


@given(
    digits=st.text(alphabet=string.digits, min_size=7, max_size=15),
    trunk=st.sampled_from(["", "", "0", "1", "8"]),
    split=st.integers(1, 3),
)
@settings(max_examples=100, deadline=None)
def test_vectorised_path_agrees_with_the_parser(digits, trunk, split):
    value = "+" + digits[:split] + trunk + digits[split:]
    result = normalize_phones(pl.Series([value]))
    assert (result["phone"][0], result["phone_error"][0] is not None) == _reference(value)


# --- phone batches -----------------------------------------------------------------------------

_POOL = [
    "+14155550132",
    "(415) 555-0132",
    "415.555.0132",
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "020 7946 0958",
    "abc",
    "12",
    "555-0132",
    "",
    "  ",
    None,
    "+1 212 555 0100",
    "212-555-0100",
]


def _one_at_a_time(value: str) -> tuple[str | None, str | None]:
    """What normalize_phone says of one value: (E.164, None) or (None, the error message)."""
    try:
        return normalize_phone(value), None
    except ContactsError as raised:
        return None, raised.message


_ONE_AT_A_TIME = {value: _one_at_a_time(value) for value in _POOL if value and value.strip()}


def test_the_pool_holds_numbers_and_refusals():
    assert _ONE_AT_A_TIME["(415) 555-0132"] == ("+14155550132", None)
    assert _ONE_AT_A_TIME["abc"] == (None, "'abc' is not a phone number")
    assert _ONE_AT_A_TIME["555-0132"] == (None, "'555-0132' is missing its area code")


@given(st.lists(st.sampled_from(_POOL), max_size=25))
@settings(max_examples=40, deadline=None)
def test_normalize_phones_agrees_value_by_value_with_normalize_phone(values):
    result = normalize_phones(pl.Series(values, dtype=pl.String))
    assert result.columns == ["phone", "phone_error"]
    assert result.height == len(values)
    for value, phone, error in zip(values, result["phone"], result["phone_error"], strict=True):
        if value is None or not value.strip():
            assert (phone, error) == (None, None)
        else:
            assert (phone, error) == _ONE_AT_A_TIME[value]


def test_normalize_phones_parses_each_distinct_value_once(monkeypatch):
    calls: Counter[str] = Counter()
    parse = core.contacts.normalize._parse_phone

    def counting_parse(value: str, default_country: str) -> tuple[str | None, str | None]:
        calls[value] += 1
        return parse(value, default_country)

    monkeypatch.setattr(core.contacts.normalize, "_parse_phone", counting_parse)
    values = ["(415) 555-0132"] * 50 + ["415.555.0132"] * 30 + ["abc"] * 20 + ["+14155550132"] * 40 + [None, ""] * 5
    result = normalize_phones(pl.Series(values, dtype=pl.String))
    assert calls == Counter({"(415) 555-0132": 1, "415.555.0132": 1, "abc": 1})
    assert result["phone"].to_list()[:80] == ["+14155550132"] * 80
    assert result["phone"].to_list()[100:140] == ["+14155550132"] * 40
    assert result["phone_error"].to_list()[80:100] == ["'abc' is not a phone number"] * 20


def test_normalize_phones_uses_the_default_country():
    result = normalize_phones(pl.Series(["020 7946 0958", "(415) 555-0132"]), "GB")
    assert result["phone"].to_list() == ["+442079460958", "+444155550132"]
