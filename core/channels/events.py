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
so that a misspelt key is reported rather than silently dropped. Times without a zone are UTC. The values
that become contact fields (email, phone, contact ID, name and the other texts) are checked by the field
rules of core.contacts.rules, over all the lines at once, as a form or an import checks them.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from core.contacts.fields import CHANNELS
from core.contacts.normalize import normalize_email
from core.contacts.rules import CONTACT_ID, EMAIL, LINE, FieldRule, phone_rule
from core.errors import ContactsError

INBOX_CHANNELS = tuple(channel for channel in CHANNELS if channel != "web")
_CHANNEL_BY_LOWER = {channel.lower(): channel for channel in INBOX_CHANNELS}
MAX_MESSAGE_LENGTH = 100_000
# Texts that become contact or conversation fields: their length is the text rule's to check (parse_lines).
_TEXT_KEYS = (
    "name",
    "browser",
    "os",
    "device",
    "ip_address",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "subject",
)


class _Event(BaseModel):
    """What both kinds of event share: who (if captured) and when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    at: datetime


class WebChatEvent(_Event):
    """A Web Chat visitor: the widget's cookie contact ID (if any), web details, optional message."""

    type: Literal["webchat"]
    contact_id: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    ip_address: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    text: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH)] | None = None


class InboxEvent(_Event):
    """An Inbox message: the channel, the sender's social ID on it, subject and text."""

    type: Literal["inbox"]
    channel: str
    social_id: Annotated[str, Field(min_length=1, max_length=255)]
    subject: str | None = None
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
    """One event from its JSON text, its shape and types checked; raises ContactsError with a readable reason.

    The values of its contact fields are checked by parse_lines, all lines at once.
    """
    try:
        # The core validator itself: TypeAdapter's wrapper costs ~2 µs a call, a fifth of the validation.
        event = _VALIDATOR.validate_json(text)
    except ValidationError as error:
        raise ContactsError(_reason(error)) from None
    if "\\u0000" in text:  # JSON's one spelling of a NUL: the values are looked at only then
        _refuse_nul(event)
    return event


def _refuse_nul(event: WebChatEvent | InboxEvent) -> None:
    """No value may hold a NUL: PostgreSQL text cannot store one, and a line must mean the same on both stores."""
    for key, value in event:
        if isinstance(value, str) and "\x00" in value:
            raise ContactsError(f"{key}: the value holds a NUL character")


def clean_email(value: str) -> str:
    """One email as stored: the email rule on one value (raises ContactsError when refused)."""
    return normalize_email(value)


def _stored_time(moment: datetime) -> datetime:
    # Stored times are naive UTC (core.contacts.activity.now); a zone-less time is taken to be UTC already.
    offset = moment.utcoffset()
    if offset is None:  # no zone (or a zone without an offset: naive, as Python counts it)
        return moment.replace(tzinfo=None)
    return (moment - offset).replace(tzinfo=None)


def _contact_id(event: WebChatEvent | InboxEvent, text: str) -> str | None:
    if isinstance(event, InboxEvent):
        return None
    return event.contact_id or visitor_id(text)


def _checked(events: list[WebChatEvent | InboxEvent], country: str) -> pl.DataFrame:
    """Each event's email and phone as stored, and its first refused field as 'key: reason' (null if none)."""
    rules: dict[str, FieldRule] = {
        "email": EMAIL,
        "phone": phone_rule(country),
        "contact_id": CONTACT_ID,
        **dict.fromkeys(_TEXT_KEYS, LINE),
    }
    # Read from each model's own field dict: getattr of a field the other kind lacks costs ~5 µs.
    cells = pl.from_dicts([event.__dict__ for event in events], schema=dict.fromkeys(rules, pl.String))
    checked = cells.select(rule.check(pl.col(key)).alias(key) for key, rule in rules.items())
    refusal = pl.coalesce(pl.format("{}: {}", pl.lit(key), pl.col(key).struct.field("reason")) for key in rules)
    return checked.select(
        pl.col("email").struct.field("value").alias("email"),
        pl.col("phone").struct.field("value").alias("phone"),
        refusal.alias("refusal"),
    )


def _clean_contact_fields(
    parsed: list[tuple[int, WebChatEvent | InboxEvent, str]], country: str
) -> tuple[list[ParsedEvent], list[Malformed]]:
    """Check every event's contact fields at once; a refused one makes its line malformed."""
    checked = _checked([event for _, event, _ in parsed], country)
    good, bad = [], []
    for (line, event, text), email, phone, refusal in zip(parsed, *checked.get_columns(), strict=True):
        if refusal is not None:
            bad.append(Malformed(line, refusal))
            continue
        try:
            at = _stored_time(event.at)
        except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first moment a datetime holds
            bad.append(Malformed(line, "at: the time is out of range once turned into UTC"))
            continue
        contact_id = _contact_id(event, text)
        good.append(ParsedEvent(line, event, email, phone, event.phone, contact_id, at))
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
