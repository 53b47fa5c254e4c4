"""Segments: named views of the contacts. System segments exist in every workspace."""

from typing import Any

from pydantic import BaseModel

from core.errors import ContactsError


class Segment(BaseModel):
    """A named view: a SQL condition on contacts `c` with its parameters."""

    key: str
    name: str
    condition: str
    description: str


SYSTEM_SEGMENTS: dict[str, Segment] = {
    s.key: s
    for s in (
        Segment(key="all", name="All contacts", condition="NOT c.blocked", description="Every contact not blocked"),
        Segment(
            key="mine", name="My contacts", condition="NOT c.blocked AND c.owner_id = $user",
            description="Contacts you own",
        ),
        Segment(
            key="unassigned", name="Unassigned", condition="NOT c.blocked AND c.owner_id IS NULL",
            description="Contacts without an owner",
        ),
        Segment(key="blocked", name="Blocked", condition="c.blocked", description="Blocked contacts"),
    )
}


def segment_condition(segment: str, user: str) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment and parameters of a segment, found by key or name."""
    for candidate in SYSTEM_SEGMENTS.values():
        if segment in (candidate.key, candidate.name) or segment.lower() == candidate.name.lower():
            params = {"user": user} if "$user" in candidate.condition else {}
            return f"({candidate.condition})", params
    names = ", ".join(s.name for s in SYSTEM_SEGMENTS.values())
    raise ContactsError(f"There is no segment '{segment}'. Segments: {names}.", field="segment")
