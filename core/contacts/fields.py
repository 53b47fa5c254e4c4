"""The catalogue of system fields: label, type, group and whether a user may edit it."""

from typing import Literal, TypedDict, Unpack

from pydantic import BaseModel

FieldType = Literal[
    "text",
    "email",
    "phone",
    "stage",
    "owner",
    "tags",
    "subscription",
    "choice",
    "boolean",
    "date",
    "datetime",
    "number",
    "checkbox",
    "dropdown",
]

SOURCES = ("web chat", "inbox", "manual", "import", "API")
CHANNELS = (
    "web",
    "email",
    "WhatsApp",
    "Facebook",
    "Instagram",
    "LINE",
    "Telegram",
    "WeChat",
    "SMS",
)
SUBSCRIPTIONS = ("subscribed", "unsubscribed", "not set")
GENDERS = ("female", "male", "non-binary", "unspecified")


class Field(BaseModel):
    """One column a contact has, system or custom."""

    key: str
    label: str
    type: FieldType
    group: str
    editable: bool = True
    custom: bool = False
    choices: tuple[str, ...] = ()


class _FieldOptions(TypedDict, total=False):
    """What a system field may set beyond key, label, type and group (left unset: the Field default)."""

    editable: bool
    choices: tuple[str, ...]


def _field(key: str, label: str, type_: FieldType, group: str, **extra: Unpack[_FieldOptions]) -> Field:
    return Field(key=key, label=label, type=type_, group=group, **extra)


SYSTEM_FIELDS: tuple[Field, ...] = (
    _field("contact_id", "Contact ID", "text", "Identity", editable=False),
    _field("first_name", "First name", "text", "Identity"),
    _field("last_name", "Last name", "text", "Identity"),
    _field("email", "Email", "email", "Identity"),
    _field("phone", "Phone", "phone", "Identity"),
    _field("phone_raw", "Phone as entered", "text", "Identity", editable=False),
    _field("lead_stage", "Lead stage", "stage", "Lifecycle"),
    _field("owner_id", "Owner", "owner", "Lifecycle"),
    _field("tags", "Tags", "tags", "Lifecycle"),
    _field("email_subscription", "Email subscription", "subscription", "Lifecycle", choices=SUBSCRIPTIONS),
    _field("sms_subscription", "SMS subscription", "subscription", "Lifecycle", choices=SUBSCRIPTIONS),
    _field("source", "Source", "choice", "Source", choices=SOURCES),
    _field("channel", "Channel", "choice", "Source", choices=CHANNELS),
    _field("social_id", "Social ID", "text", "Source"),
    _field("name_generated", "Generated name", "boolean", "Source", editable=False),
    _field("company", "Company", "text", "Profile"),
    _field("job_title", "Job title", "text", "Profile"),
    _field("gender", "Gender", "choice", "Profile", choices=GENDERS),
    _field("birthday", "Birthday", "date", "Profile"),
    _field("language", "Language", "text", "Profile"),
    _field("time_zone", "Time zone", "text", "Profile"),
    _field("country", "Country", "text", "Profile"),
    _field("state", "State", "text", "Profile"),
    _field("city", "City", "text", "Profile"),
    _field("address", "Address", "text", "Profile"),
    _field("postal_code", "Postal code", "text", "Profile"),
    _field("website", "Website", "text", "Profile"),
    _field("browser", "Browser", "text", "Web"),
    _field("os", "OS", "text", "Web"),
    _field("device", "Device", "text", "Web"),
    _field("ip_address", "IP address", "text", "Web"),
    _field("first_visit_url", "First visit URL", "text", "Web"),
    _field("referrer", "Referrer", "text", "Web"),
    _field("utm_source", "UTM source", "text", "Web"),
    _field("utm_medium", "UTM medium", "text", "Web"),
    _field("utm_campaign", "UTM campaign", "text", "Web"),
    _field("created_on", "Created on", "datetime", "Time", editable=False),
    _field("last_updated", "Last updated", "datetime", "Time", editable=False),
    _field("last_contacted", "Last contacted", "datetime", "Time", editable=False),
    _field("last_seen", "Last seen", "datetime", "Time", editable=False),
    _field("blocked", "Blocked", "boolean", "Status", editable=False),
    _field("blocked_on", "Blocked on", "datetime", "Status", editable=False),
)

SYSTEM_FIELD_BY_KEY: dict[str, Field] = {field.key: field for field in SYSTEM_FIELDS}
EDITABLE_SYSTEM_KEYS: frozenset[str] = frozenset(f.key for f in SYSTEM_FIELDS if f.editable)
DEFAULT_TABLE_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "lead_stage",
    "owner_id",
    "tags",
    "last_updated",
)
SORTABLE_KEYS: frozenset[str] = frozenset(f.key for f in SYSTEM_FIELDS if f.type not in ("tags",))
