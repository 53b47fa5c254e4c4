"""Country names for phone calling codes: where a contact without a country field is reachable."""

from functools import cache

import phonenumbers
from phonenumbers import geocoder


@cache
def calling_code_countries() -> dict[str, str]:
    """Calling code ('44') to the English name of its main country ('United Kingdom')."""
    names: dict[str, str] = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        example = phonenumbers.example_number(regions[0])
        name = geocoder.country_name_for_number(example, "en") if example is not None else ""
        if name:
            names[str(code)] = name
    return names


def country_of_phone(phone: str | None) -> str | None:
    """The country a phone number in E.164 ('+4420...') belongs to by its calling code, if known."""
    if not phone or not phone.startswith("+"):
        return None
    codes = calling_code_countries()
    # Calling codes are prefix-free: at most one of the first three digit prefixes is a code.
    return next((codes[phone[1:size]] for size in (1, 2, 3) if phone[1:size] in codes), None)


def calling_codes_of(country: str) -> list[str]:
    """The calling codes whose main country has this name (usually one)."""
    wanted = country.lower()
    return sorted(code for code, name in calling_code_countries().items() if name.lower() == wanted)
