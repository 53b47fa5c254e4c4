"""Email and phone normalisation: one value at a time for forms, set-based for batches."""

import re
from functools import cache

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from core.errors import ContactsError

# Formatting people put around phone digits; stripping it reveals a well-formed E.164 number.
_PHONE_FORMATTING = r"[\s\-\.\(\)/]"
_E164 = r"^\+[1-9]\d{7,14}$"
_E164_RE = re.compile(_E164)


def normalize_email(value: str) -> str:
    """Return the email trimmed and lower-cased, or raise ContactsError if it is not valid."""
    text = value.strip()
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ContactsError(f"'{text}' is not a valid email address: {error}", field="email") from None
    return checked.normalized.lower()


def normalize_phone(value: str, default_country: str = "US") -> str:
    """Return the number in E.164, or raise ContactsError if it cannot be a phone number."""
    result = normalize_phones(pl.Series([value]), default_country)
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
    possible, trunks = set(), []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        if metadata is None:
            continue
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
    raw = values.cast(pl.String).str.strip_chars()
    frame = (
        pl.DataFrame({"raw": raw})
        .with_columns(stripped=pl.col("raw").str.replace_all(_PHONE_FORMATTING, ""))
        .with_columns(fast=_trusted_e164(pl.col("stripped")))
    )
    slow_values = frame.filter(~pl.col("fast") & (pl.col("raw").str.len_chars() > 0))["raw"].unique()
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
