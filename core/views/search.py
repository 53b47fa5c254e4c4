"""Quick search as the admin guide defines it, compiled to a parameterised SQL condition.

Fuzzy (case-insensitive, partial) on first name, last name, both names, email and phone (additional ones
included), the phone matching whatever its formatting; case-insensitive whole word on custom fields except
checkbox and date & time. Answered from the search table kept on write (core/views/search_index.py).
Close spellings (typos) of names and email local parts: core/views/fuzzy.py.
"""

from typing import Any

import polars as pl

from core.contacts.normalize import normalize_phones, phone_digits
from core.views.search_index import SEPARATOR

_RE2_SPECIAL = set("\\.+*?()|[]{}^$-")
MIN_PHONE_DIGITS = 3


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so the text matches literally (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def escape_re2(text: str) -> str:
    """The text as an RE2 pattern matching it literally."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def whole_word_pattern(text: str) -> str:
    """An RE2 pattern matching the text as a whole word (or words)."""
    return rf"(^|[^[:alnum:]_])({escape_re2(text)})([^[:alnum:]_]|$)"


def _looks_like_phone(text: str) -> bool:
    digits = phone_digits(text)
    return len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(text.replace(" ", "")) * 0.6


def search_condition(query: str, default_country: str = "US") -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and parameters for a quick search.

    It reads the search table (core/views/search_index.py): one narrow precomputed row per contact instead of
    four contact columns, the custom values and the additional channels.
    """
    text = " ".join(query.split())
    if not text:
        return "TRUE", {}
    # contains() over the lower-cased values is ILIKE '%text%' without its wildcards (and their escaping).
    params: dict[str, Any] = {"search_text": text.lower(), "search_word": whole_word_pattern(text)}
    clauses = [
        "contains(s.text, $search_text)",
        "(contains(s.words, $search_text) AND regexp_matches(s.words, $search_word, 'i'))",
    ]
    if _looks_like_phone(text):
        params["search_digits"] = phone_digits(text)
        clauses.append("contains(s.phones, $search_digits)")
        e164 = normalize_phones_single(text, default_country)
        if e164:
            params["search_e164"] = f"{SEPARATOR}{e164}{SEPARATOR}"
            clauses.append("contains(chr(31) || s.phones || chr(31), $search_e164)")
    return f"c.contact_id IN (SELECT s.contact_id FROM contact_search s WHERE {' OR '.join(clauses)})", params


def normalize_phones_single(text: str, default_country: str) -> str | None:
    """The E.164 form of a phone-looking query, or None."""
    return normalize_phones(pl.Series([text]), default_country)["phone"][0]
