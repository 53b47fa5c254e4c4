"""Email and phone normalisation, set-based: a batch is cleaned as a column, one value as a one-row column.

Each batch function returns the stored form (null when blank or refused) and the reason it was refused;
core.contacts.rules turns them into the email and phone field rules.
"""

import re
from functools import cache

import email_validator
import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from core.errors import ContactsError

# Formatting people put around phone digits; stripping it reveals a well-formed E.164 number.
_PHONE_FORMATTING = r"[\s\-\.\(\)/]"
_E164 = r"^\+[1-9]\d{7,14}$"
_E164_RE = re.compile(_E164)
# What str.strip() takes off (Polars' own trim leaves U+001C..U+001F), so a form and a file trim alike.
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
# Strict enough that the validator would accept and return it unchanged (lower-cased); the rest go to it.
_EMAIL_FAST = r"^[a-z0-9]+(?:[._+\-][a-z0-9]+)*@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# A well-formed address on a special-use or reserved domain (.invalid, .test, .local, .onion...) is an
# address people keep (Thunderbird exports them as primary emails): the validator refuses them on every
# call (its only per-call option, test_environment, covers .test alone), so the list it checks is
# emptied as its documentation says to. A bare name ('ada@localhost') still lacks its period.
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()


def trimmed(values: pl.Series) -> pl.Series:
    """Text values trimmed as str.strip() trims, blank as null."""
    text = values.cast(pl.String).str.strip_chars(WHITESPACE)
    return text.set(text == "", None)


def normalize_email(value: str) -> str:
    """Return the email trimmed and lower-cased, or raise ContactsError if it is not valid."""
    result = normalize_emails(pl.Series([value], dtype=pl.String))
    email, error = result["email"][0], result["email_error"][0]
    if email is None:
        raise ContactsError(error or "Enter an email address.", field="email")
    return email


def _validate_email(text: str) -> tuple[str | None, str | None]:
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return None, f"'{text}' is not a valid email address: {error}"
    return checked.normalized.lower(), None


def normalize_emails(values: pl.Series) -> pl.DataFrame:
    """Normalise a batch: columns `email` (lower-cased, or null) and `email_error` (reason or null).

    Plain addresses the validator would return unchanged take a vectorised path; the rest go to the
    validator once per distinct value, since it costs about 50 µs a call.
    """
    text = trimmed(values)
    lowered = text.str.to_lowercase()
    fast = (
        lowered.str.contains(_EMAIL_FAST)
        & (lowered.str.split("@").list.first().str.len_bytes() <= 64)
        & (lowered.str.len_bytes() <= 254)
    )
    slow = text.filter(~fast.fill_null(True) & text.is_not_null()).unique()
    checked = [_validate_email(value) for value in slow.to_list()]
    lookup = pl.DataFrame(
        {"text": slow, "slow_email": [c[0] for c in checked], "slow_error": [c[1] for c in checked]},
        schema={"text": pl.String, "slow_email": pl.String, "slow_error": pl.String},
    )
    frame = pl.DataFrame({"text": text, "lowered": lowered, "fast": fast})
    joined = frame.join(lookup, on="text", how="left", maintain_order="left")
    return joined.select(
        email=pl.when(pl.col("fast")).then(pl.col("lowered")).otherwise(pl.col("slow_email")),
        email_error=pl.when(pl.col("fast")).then(None).otherwise(pl.col("slow_error")),
    )


def normalize_phone(value: str, default_country: str = "US") -> str:
    """Return the number in E.164, or raise ContactsError if it cannot be a phone number."""
    result = normalize_phones(pl.Series([value], dtype=pl.String), default_country)
    e164, error = result["phone"][0], result["phone_error"][0]
    if e164 is None:
        raise ContactsError(error or "Enter a phone number.", field="phone")
    return e164


def _parse_phone(value: str, default_country: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(value, default_country)
    except phonenumbers.NumberParseException:
        return None, f"'{value}' is not a phone number"
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return None, f"'{value}' is missing its area code"
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None, f"'{value}' is not a possible phone number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@cache
def _fast_path_rules() -> tuple[frozenset[str], str]:
    """What the vectorised path may trust, from the parser's own metadata.

    Returns the '+code:length' keys of possible numbers, and a pattern matching the numbers whose
    digits after the country code start with a trunk prefix the parser would strip or rewrite, as
    in '+44 (0)20 7946 0958'.
    """
    possible: set[str] = set()
    trunks: list[str] = []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        if metadata is None:
            continue
        if metadata.general_desc is not None:  # every region's metadata has one
            possible.update(f"+{code}:{length}" for length in metadata.general_desc.possible_length)
        if metadata.national_prefix_for_parsing:
            trunks.append(f"{code}(?:{metadata.national_prefix_for_parsing})")
    return frozenset(possible), r"^\+(?:" + "|".join(trunks) + ")"


def _trusted_e164(stripped: pl.Expr) -> pl.Expr:
    """Whether a value, formatting removed, is an E.164 number the parser would return unchanged."""
    possible, trunk = _fast_path_rules()
    known = [
        pl.concat_str(stripped.str.slice(0, size + 1), pl.lit(":"), stripped.str.len_chars() - size - 1).is_in(possible)
        for size in (1, 2, 3)
    ]
    return stripped.str.contains(_E164) & pl.any_horizontal(known) & ~stripped.str.contains(trunk)


def normalize_phones(values: pl.Series, default_country: str = "US") -> pl.DataFrame:
    """Normalise a batch: columns `phone` (E.164 or null) and `phone_error` (reason or null).

    Well-formed international numbers that the parser would return unchanged take a vectorised
    path; the rest are parsed once per distinct value, since the parser costs about 14 µs a call.
    """
    raw = trimmed(values)
    frame = (
        pl.DataFrame({"raw": raw})
        .with_columns(stripped=pl.col("raw").str.replace_all(_PHONE_FORMATTING, ""))
        .with_columns(fast=_trusted_e164(pl.col("stripped")))
    )
    slow_values = frame.filter(~pl.col("fast") & pl.col("raw").is_not_null())["raw"].unique()
    parsed = [_parse_phone(value, default_country) for value in slow_values.to_list()]
    lookup = pl.DataFrame(
        {
            "raw": slow_values,
            "slow_phone": [p[0] for p in parsed],
            "slow_error": [p[1] for p in parsed],
        },
        schema={"raw": pl.String, "slow_phone": pl.String, "slow_error": pl.String},
    )
    joined = frame.join(lookup, on="raw", how="left", maintain_order="left")
    return joined.select(
        phone=pl.when(pl.col("fast")).then(pl.col("stripped")).otherwise(pl.col("slow_phone")),
        phone_error=pl.when(pl.col("fast")).then(None).otherwise(pl.col("slow_error")),
    )


def phone_digits(value: str) -> str:
    """The digits of a phone query, for matching whatever its formatting."""
    return re.sub(r"\D", "", value)


def is_e164(value: str) -> bool:
    """Whether a value is already a well-formed E.164 number."""
    return bool(_E164_RE.match(value))
