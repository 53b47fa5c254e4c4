"""Pydantic models that cross the core boundary."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ContactInput(BaseModel):
    """What a person types to create a contact: every field optional, validated by core."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    lead_stage: str | None = None
    owner_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    company: str | None = None
    job_title: str | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class Contact(BaseModel):
    """A stored contact with its custom values and the version an update must quote."""

    contact_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_raw: str | None = None
    lead_stage: str
    owner_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    email_subscription: str
    sms_subscription: str
    source: str
    channel: str | None = None
    social_id: str | None = None
    name_generated: bool = False
    company: str | None = None
    job_title: str | None = None
    gender: str | None = None
    birthday: date | None = None
    language: str | None = None
    time_zone: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    address: str | None = None
    postal_code: str | None = None
    website: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    ip_address: str | None = None
    first_visit_url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    created_on: datetime
    last_updated: datetime
    last_contacted: datetime | None = None
    last_seen: datetime | None = None
    blocked: bool = False
    blocked_on: datetime | None = None
    version: int
    custom: dict[str, Any] = Field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """First and last name, else email, phone or ID: how the contact is shown."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email or self.phone or self.contact_id


class CustomField(BaseModel):
    """An admin-defined field."""

    key: str
    label: str
    type: str
    options: list[str] = Field(default_factory=list)
    is_identity: bool = False
    position: int = 0


class ContactPage(BaseModel):
    """One page of a list view: the rows shown and the total across all pages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    total: int
    page: int
    page_size: int
    rows: Any  # a polars.DataFrame
    estimated: bool = False  # the total is the store's estimate, rounded (core.views.queries.EXACT_COUNT_UP_TO)

    @property
    def page_count(self) -> int:
        """How many pages the total spans (at least one)."""
        return max(1, -(-self.total // self.page_size))
