"""The demo's reference tables (countries, cities, names, texts, weights), read once from `tables/`.

The data files ship inside the package and are read with importlib.resources, so a plain checkout
needs no build step. Each reader is cached: the files are parsed on first use, then never again.
"""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, NamedTuple, TypeVar, get_type_hints

import numpy as np

from core.contacts.fields import SOURCES


class City(NamedTuple):
    """A city people live in, and its share of the country's people."""

    city: str
    state: str
    time_zone: str
    postal_prefix: str
    weight: float


@dataclass(frozen=True)
class Country:
    """What varies by country: names, phone and address formats, email providers, cities."""

    code: str
    name: str
    locale: str
    weight: float
    language: str
    calling_code: str
    mobile_prefixes: tuple[str, ...]
    subscriber_digits: int
    subscriber_floor: int
    phone_formats: tuple[str, ...]  # '#' takes the next digit of the national number
    email_domains: Mapping[str, float]
    tld: str
    legal_forms: tuple[str, ...]
    streets: tuple[str, ...]
    address_format: str
    postal_format: str  # after the city's prefix: '#' a digit, '?' a capital letter
    cities: tuple[City, ...]
    messaging: str  # the market in messaging.json


@dataclass(frozen=True)
class NamePool:
    """Names as shown (native script), in Latin letters, as email slugs, and how common each is."""

    native: list[str]
    latin: list[str]
    slug: list[str]
    weights: np.ndarray


@dataclass(frozen=True)
class SourceMix:
    """Per source, in SOURCES order where a tuple: how common it is, its channels, which fields it knows."""

    weights: Mapping[str, float]
    channels: Mapping[str, Mapping[str | None, float]]  # inbox is missing: it takes the country's messaging
    known: Mapping[str, tuple[float, ...]]  # field -> chance it is known, per source


class Owner(NamedTuple):
    owner_id: str
    name: str
    role: str
    weight: float


class WebClient(NamedTuple):
    device: str
    os: str
    browser: str
    weight: float


class Visit(NamedTuple):
    """A first visit to the brand's site: landing page, referrer and campaign."""

    landing_page: str
    referrer: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    weight: float


class MediaKind(NamedTuple):
    file_name: str  # '{n}' takes a number
    mime_type: str
    smallest_bytes: int
    largest_bytes: int
    weight: float


@dataclass(frozen=True)
class Texts:
    """Subjects, note sentences and conversation messages; '{n}' takes a number."""

    conversation_subjects: tuple[str, ...]
    ticket_subjects: tuple[str, ...]
    note_openings: tuple[str, ...]
    note_follow_ups: tuple[str, ...]  # '' for a note with no follow-up
    contact_messages: tuple[str, ...]  # what contacts write in a conversation
    team_messages: tuple[str, ...]  # what the team answers


Row = TypeVar("Row", bound=tuple)


# --- Reading the files ---------------------------------------------------------------------------------------


def _table(name: str) -> Traversable:
    return resources.files("core.demo").joinpath("tables", name)


def _json(name: str) -> Any:
    return json.loads(_table(name).read_text(encoding="utf-8"))


def _csv(name: str) -> list[dict[str, str]]:
    # Opened as bytes and decoded here: Traversable.open promises only `encoding` for text, and csv needs newline="".
    with io.TextIOWrapper(_table(name).open("rb"), encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def _record(kind: type[Row], row: Mapping[str, str]) -> Row:
    """A CSV row as a NamedTuple, each cell read as its field's type; an empty optional cell is None."""
    types = get_type_hints(kind)
    return kind(*(_cell(row[field], types[field]) for field in kind._fields))  # type: ignore[attr-defined]


def _cell(text: str, type_: Any) -> Any:
    if type_ in (int, float):
        return type_(text)
    if type_ == str | None:
        return text or None
    return text


def _records(kind: type[Row], name: str) -> tuple[Row, ...]:
    return tuple(_record(kind, row) for row in _csv(name))


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: what a name becomes in an email address."""
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


# --- The tables ----------------------------------------------------------------------------------------------


@cache
def countries() -> tuple[Country, ...]:
    """Every country the demo's people come from, with its cities."""
    cities: dict[str, list[City]] = {}
    for row in _csv("cities.csv"):
        cities.setdefault(row["country"], []).append(_record(City, row))
    return tuple(_country(entry, tuple(cities[entry["code"]])) for entry in _json("countries.json"))


def _country(entry: dict[str, Any], cities: tuple[City, ...]) -> Country:
    lists = {key: tuple(entry[key]) for key in ("mobile_prefixes", "phone_formats", "legal_forms", "streets")}
    return Country(**entry | lists, cities=cities)


@cache
def name_pools(locale: str) -> tuple[NamePool, NamePool, NamePool]:
    """Female first names, male first names and last names of a locale (a snapshot of Faker's lists)."""
    lists: dict[str, list[tuple[str, str, float]]] = {"female": [], "male": [], "last": []}
    for row in _csv(f"names/{locale}.csv"):
        # A name in another script carries its Latin spelling, which its emails use.
        lists[row["list"]].append((row["name"], row["latin"] or row["name"], float(row["weight"])))
    return _name_pool(lists["female"]), _name_pool(lists["male"]), _name_pool(lists["last"])


def _name_pool(entries: list[tuple[str, str, float]]) -> NamePool:
    weights = np.array([weight for _, _, weight in entries])
    return NamePool(
        native=[native for native, _, _ in entries],
        latin=[latin for _, latin, _ in entries],
        slug=[slug(latin) or "user" for _, latin, _ in entries],
        weights=weights / weights.sum(),
    )


@cache
def messaging() -> dict[str, dict[str, float]]:
    """Which messaging apps people in a market write from, for contacts that came in through the inbox."""
    return _json("messaging.json")


@cache
def source_mix() -> SourceMix:
    """How contacts arrive: each source's share, its channels, and the chance each field is known."""
    sources = _json("sources.json")
    fields = list(sources[SOURCES[0]]["known"])
    return SourceMix(
        weights={name: sources[name]["weight"] for name in SOURCES},
        channels={
            name: dict((channel, weight) for channel, weight in sources[name]["channels"])
            for name in SOURCES
            if "channels" in sources[name]
        },
        known={field: tuple(sources[name]["known"][field] for name in SOURCES) for field in fields},
    )


@cache
def owners() -> tuple[Owner, ...]:
    """The demo team: one admin and seven agents, with their share of the contacts they own."""
    return _records(Owner, "owners.csv")


def _weights(name: str, key: str) -> dict[str, float]:
    return {row[key]: float(row["weight"]) for row in _csv(name)}


@cache
def tags() -> dict[str, float]:
    """Marketing tags and how often each is drawn."""
    return _weights("tags.csv", "tag")


@cache
def genders() -> dict[str, float]:
    return _weights("genders.csv", "gender")


@cache
def stage_weights() -> dict[str, tuple[float, float]]:
    """Lead stage weights for people without and with a customer number."""
    return {
        row["stage"]: (float(row["without_customer_number"]), float(row["with_customer_number"]))
        for row in _csv("lead_stages.csv")
    }


@cache
def email_patterns() -> tuple[tuple[str, float], ...]:
    """Local part of a personal address ('{f}' first name, '{l0}' last initial...) and how common it is."""
    return tuple((row["pattern"], float(row["weight"])) for row in _csv("email_patterns.csv"))


@cache
def web_clients() -> tuple[WebClient, ...]:
    """Device, operating system, browser and how common the mix is among web chat visitors."""
    return _records(WebClient, "web_clients.csv")


@cache
def traffic() -> tuple[Visit, ...]:
    """Where web visitors land and what brought them."""
    return _records(Visit, "traffic.csv")


@cache
def media_kinds() -> tuple[MediaKind, ...]:
    """Attachment kinds: file name, MIME type, size range in bytes, weight."""
    return _records(MediaKind, "media_kinds.csv")


@cache
def texts() -> Texts:
    return Texts(**{key: tuple(values) for key, values in _json("texts.json").items()})


@cache
def _work() -> dict[str, list[str]]:
    return _json("work.json")


@cache
def job_titles() -> tuple[str, ...]:
    return tuple(_work()["job_titles"])


@cache
def company_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The two words of a made-up company name ('Blue' + 'Labs')."""
    return tuple(_work()["company_first_words"]), tuple(_work()["company_second_words"])
