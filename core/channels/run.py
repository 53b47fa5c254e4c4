"""What an ingest run holds while it replays events: the contacts and conversations it sees, and its report."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

WEB_FIELDS = ("browser", "os", "device", "ip_address", "referrer", "utm_source", "utm_medium", "utm_campaign")
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "name_generated",
    "email",
    "phone",
    "phone_raw",
    *WEB_FIELDS,
    "first_visit_url",
)
LOADED_FIELDS = ("contact_id", "blocked", *PROFILE_FIELDS, "last_seen", "last_contacted")
NEW_CONTACT_FIELDS = (*LOADED_FIELDS, "lead_stage", "source", "channel", "social_id", "created_on", "last_updated")


class IngestReport(BaseModel):
    """What a run did: contacts created and updated, conversations, refusals and malformed lines."""

    events: int = 0
    created: int = 0
    updated: int = 0
    conversations_opened: int = 0
    conversations_continued: int = 0
    refused_blocked: int = 0
    malformed: list[dict[str, Any]] = Field(default_factory=list)
    run_id: int | None = None


@dataclass(slots=True)
class RunContact:
    """A contact as the run sees it: its stored values, then the events' changes."""

    values: dict[str, Any]
    existed: bool
    before: dict[str, Any] = field(default_factory=dict)
    touched: bool = False
    channels: set[str] = field(default_factory=set)
    new_identities: list[tuple[str, str]] = field(default_factory=list)
    refused: int = 0


@dataclass(slots=True)
class RunConversation:
    """A conversation the run opens or continues."""

    contact_id: str
    kind: str
    channel: str
    subject: str | None
    started_at: datetime
    last_message_at: datetime
    message_count: int
    conversation_id: int | None = None  # None until written: a conversation this run opened
    continued: bool = False


@dataclass(slots=True)
class RunMessage:
    """An event's text, in the conversation the run put it in (whose ID is known once written)."""

    conversation: RunConversation
    sender: str  # who sent it on its channel: 'inbox', channel and social ID, or 'webchat' and the widget's ID
    sent_at: datetime
    text: str


@dataclass
class Run:
    """Everything a run has learnt and changed, keyed for lookups while replaying events."""

    contacts: dict[str, RunContact]
    identities: dict[tuple[str, str], str]
    by_email: dict[str, str]
    by_phone: dict[str, str]
    conversations: dict[tuple[str, str, str], RunConversation]
    merged: dict[str, str] = field(default_factory=dict)  # a merged-away cookie ID -> its primary
    opened: list[RunConversation] = field(default_factory=list)
    new_identities: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    used_identities: dict[tuple[str, str], datetime] = field(default_factory=dict)
    messages: list[RunMessage] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
