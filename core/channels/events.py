"""The events channels send, one JSON object a line, and turning lines into checked events.

A Web Chat visitor event (`"type": "webchat"`):

    {"type": "webchat", "contact_id": "9f2c41d07a3b5e68", "name": "Maria Lopez", "email": "maria@example.com",
     "phone": "+1 415 555 0101", "browser": "Chrome 131", "os": "macOS", "device": "desktop",
     "ip_address": "203.0.113.7", "page_url": "https://shop.example/pricing", "referrer": "https://google.com",
     "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring", "at": "2026-11-25T09:30:00Z",
     "text": "Hi, do you ship to Spain?"}

An Inbox message event (`"type": "inbox"`):

    {"type": "inbox", "channel": "WhatsApp", "social_id": "+34612345678", "name": "Lucía Gómez",
     "email": null, "phone": "+34 612 345 678", "at": "2026-11-25T09:31:00+01:00",
     "subject": null, "text": "¿Tenéis la talla M?"}

Only `type` and `at` are required, plus `channel` and `social_id` for Inbox. Unknown keys are refused,
so that a misspelt key is reported rather than silently dropped. Times without a zone are UTC.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from core.contacts.fields import CHANNELS
from core.contacts.normalize import normalize_email, normalize_phones
from core.contacts.validation import MAX_CONTACT_ID_LENGTH, MAX_TEXT_LENGTH
from core.errors import ContactsError

INBOX_CHANNELS = tuple(channel for channel in CHANNELS if channel != "web")
_CHANNEL_BY_LOWER = {channel.lower(): channel for channel in INBOX_CHANNELS}
MAX_MESSAGE_LENGTH = 100_000
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]


class _Event(BaseModel):
    """What both kinds of event share: who (if captured) and when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    at: datetime


class WebChatEvent(_Event):
    """A Web Chat visitor: the widget's cookie contact ID (if any), web details, optional message."""

    type: Literal["webchat"]
    contact_id: Annotated[str, Field(max_length=MAX_CONTACT_ID_LENGTH, pattern=r"^\S*$")] | None = None
    browser: Text | None = None
    os: Text | None = None
    device: Text | None = None
    ip_address: Text | None = None
    page_url: Text | None = None
    referrer: Text | None = None
    utm_source: Text | None = None
    utm_medium: Text | None = None
    utm_campaign: Text | None = None
    text: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH)] | None = None


class InboxEvent(_Event):
    """An Inbox message: the channel, the sender's social ID on it, subject and text."""

    type: Literal["inbox"]
    channel: str
    social_id: Annotated[str, Field(min_length=1, max_length=255)]
    subject: Text | None = None
    text: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH)] | None = None

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        # Channels spell themselves in many cases ("whatsapp", "WHATSAPP"); store the catalogue's spelling.
        known = _CHANNEL_BY_LOWER.get(value.lower())
        if known is None:
            raise ValueError(f"channel must be one of {', '.join(INBOX_CHANNELS)}")
        return known


ChannelEvent = Annotated[WebChatEvent | InboxEvent, Field(discriminator="type")]
_EVENT = TypeAdapter(ChannelEvent)
_VALIDATOR = _EVENT.validator


@dataclass(frozen=True)
class Malformed:
    """A line that was not a valid event, and why."""

    line: int
    reason: str


@dataclass(slots=True)
class ParsedEvent:
    """A valid event, its line number and its email and phone as stored."""

    line: int
    event: WebChatEvent | InboxEvent
    email: str | None
    phone: str | None
    phone_raw: str | None
    contact_id: str | None  # a Web Chat event's contact: the cookie's, else visitor_id of the line
    at: datetime  # as stored: naive UTC


def visitor_id(line: str) -> str:
    """The contact ID of a visitor whose widget sent none: derived from the event's line, so a replay finds it."""
    return hashlib.blake2b(line.strip().encode(), digest_size=8).hexdigest()


def _reason(error: ValidationError) -> str:
    """The first problem of a validation error, in one line naming the key."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    if kind == "extra_forbidden":
        return f"unknown key '{where.split('.')[-1]}'"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return "'type' must be 'webchat' or 'inbox'"
    if kind in ("model_type", "dict_type"):
        return "a line must be one JSON object"
    key = where.split(".")[-1] if where else "line"
    return f"{key}: {first['msg'].removeprefix('Value error, ')}"


def parse_event(text: str) -> WebChatEvent | InboxEvent:
    """One event from its JSON text; raises ContactsError with a readable reason."""
    try:
        # The core validator itself: TypeAdapter's wrapper costs ~2 µs a call, a fifth of the validation.
        return _VALIDATOR.validate_json(text)
    except ValidationError as error:
        raise ContactsError(_reason(error)) from None


_SIMPLE_LOCAL = re.compile(r"^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*$")


@lru_cache(maxsize=100_000)  # bounded: domains come from outside
def _domain_ok(domain: str) -> bool:
    """Whether email_validator accepts this domain (asked once per domain: it costs ~50 µs a call)."""
    try:
        return normalize_email(f"a@{domain}") == f"a@{domain}"
    except ContactsError:
        return False


def clean_email(value: str) -> str:
    """An email as core.contacts.normalize stores it, fast for the common plain ASCII address."""
    lowered = value.strip().lower()
    local, at, domain = lowered.rpartition("@")
    if at and len(local) <= 64 and len(lowered) <= 254 and _SIMPLE_LOCAL.match(local) and _domain_ok(domain):
        return lowered
    return normalize_email(value)


def _stored_time(moment: datetime) -> datetime:
    # Stored times are naive UTC (core.contacts.activity.now); a zone-less time is taken to be UTC already.
    if moment.tzinfo is None:
        return moment
    return (moment - moment.utcoffset()).replace(tzinfo=None)


def _contact_id(event: WebChatEvent | InboxEvent, text: str) -> str | None:
    if isinstance(event, InboxEvent):
        return None
    return event.contact_id or visitor_id(text)


def _normalized_phones(events: list[WebChatEvent | InboxEvent], country: str) -> dict[str, tuple[str | None, str]]:
    """Each distinct phone given: (E.164 or None, the reason it is not one), in one vectorised batch."""
    given = sorted({event.phone for event in events if event.phone})
    result = normalize_phones(pl.Series(given, dtype=pl.String), country)
    return dict(zip(given, zip(result["phone"].to_list(), result["phone_error"].to_list(), strict=True), strict=True))


def _clean_contact_fields(
    parsed: list[tuple[int, WebChatEvent | InboxEvent, str]], country: str
) -> tuple[list[ParsedEvent], list[Malformed]]:
    """Normalise every email and phone; a bad one makes its line malformed."""
    phones = _normalized_phones([event for _, event, _ in parsed], country)
    good, bad = [], []
    for line, event, text in parsed:
        phone, phone_error = phones[event.phone] if event.phone else (None, None)
        if event.phone and phone is None:
            bad.append(Malformed(line, f"phone: {phone_error or 'not a phone number'}"))
            continue
        try:
            email = clean_email(event.email) if event.email else None
        except ContactsError as error:
            bad.append(Malformed(line, error.message))
            continue
        contact_id = _contact_id(event, text)
        good.append(ParsedEvent(line, event, email, phone, event.phone, contact_id, _stored_time(event.at)))
    return good, bad


def parse_lines(
    lines: list[str], country: str = "US", first_line: int = 1
) -> tuple[list[ParsedEvent], list[Malformed]]:
    """Check every line; blank lines are skipped, the rest are events or malformed, in line order."""
    parsed, malformed = [], []
    for number, text in enumerate(lines, start=first_line):
        if not text.strip():
            continue
        try:
            parsed.append((number, parse_event(text), text))
        except ContactsError as error:
            malformed.append(Malformed(number, error.message))
    good, bad = _clean_contact_fields(parsed, country)
    return good, sorted(malformed + bad, key=lambda item: item.line)


def event_json(event: WebChatEvent | InboxEvent) -> str:
    """The event as one JSON line (its documented form)."""
    return json.dumps(event.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
