"""Quick search as the admin guide defines it, compiled to a parameterised SQL condition.

Fuzzy (case-insensitive, partial) on first name, last name, email and phone (additional ones
included), the phone matching whatever its formatting; case-insensitive whole word on custom fields except
checkbox and date & time. Close spellings (typos) of names and email local parts: core/views/fuzzy.py.
"""

from typing import Any

import polars as pl

from core.contacts.normalize import normalize_phones, phone_digits

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
    """The WHERE fragment (on contacts `c`) and parameters for a quick search."""
    text = " ".join(query.split())
    if not text:
        return "TRUE", {}
    params: dict[str, Any] = {"search_like": f"%{escape_like(text)}%", "search_word": whole_word_pattern(text)}
    # ILIKE without ESCAPE runs as a fast case-insensitive substring scan; a query holding a
    # wildcard character needs ESCAPE, which is slow, so it goes through literal contains() instead.
    literal = not any(ch in text for ch in "%_\\")
    escape = "" if literal else " ESCAPE '\\'"
    columns = ["c.first_name", "c.last_name", "c.email"]
    phone_like = _looks_like_phone(text)
    # Only a query with a space can span first and last name; a phone-looking one ("555 01") never does,
    # and joining the two names of every contact is the costliest clause of a search.
    if " " in text and not phone_like:
        columns.append("concat_ws(' ', c.first_name, c.last_name)")
    if literal:
        clauses = [f"{column} ILIKE $search_like" for column in columns]
    else:
        params["search_text"] = text.lower()
        clauses = [f"contains(lower({column}), $search_text)" for column in columns]
    clauses.append(
        "c.contact_id IN (SELECT v.contact_id FROM custom_values v JOIN custom_fields f ON f.key = v.field_key "
        f"WHERE f.type IN ('text', 'number', 'dropdown') AND v.value ILIKE $search_like{escape} "
        "AND regexp_matches(v.value, $search_word, 'i'))"
    )
    # Additional emails and phones (contact_channels) are searched like the primary ones.
    channel_match = f"ch.value ILIKE $search_like{escape}"
    if phone_like:
        params["search_digits"] = phone_digits(text)
        clauses.append("contains(c.phone, $search_digits)")
        channel_match += " OR (ch.kind = 'phone' AND contains(ch.value, $search_digits))"
        e164 = normalize_phones_single(text, default_country)
        if e164:
            params["search_e164"] = e164
            clauses.append("c.phone = $search_e164")
    clauses.append(f"c.contact_id IN (SELECT ch.contact_id FROM contact_channels ch WHERE {channel_match})")
    return "(" + " OR ".join(clauses) + ")", params


def normalize_phones_single(text: str, default_country: str) -> str | None:
    """The E.164 form of a phone-looking query, or None."""
    return normalize_phones(pl.Series([text]), default_country)["phone"][0]
