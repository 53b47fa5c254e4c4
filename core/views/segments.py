"""Segments: named views of the contacts. System segments exist in every workspace; saved ones hold a filter.

A saved segment stores its filter, not its members: it is compiled afresh each time it is
shown, so a contact that starts to match appears. Blocked contacts leave every segment but
Blocked, saved segments included.
"""

from typing import Any, Literal

import duckdb
import polars as pl
from pydantic import BaseModel

from core.accounts.permissions import writes
from core.contacts.activity import now
from core.db import frame, rows, scalar, transaction
from core.db.dialect import dialect
from core.errors import ContactsError
from core.views.filters import (
    Filter,
    check_filter,
    compile_filter,
    describe_filter,
    filter_fields,
    filter_json,
    parse_filter,
)

SAVED_PREFIX = "saved-"
MAX_NAME_LENGTH = 100
CompositionField = Literal["lead_stage", "channel", "owner_id"]
COMPOSITION_FIELDS: dict[CompositionField, str] = {
    "lead_stage": "Lead stage",
    "channel": "Channel",
    "owner_id": "Owner",
}


class Segment(BaseModel):
    """A named view: a system condition on contacts `c`, or a saved filter."""

    key: str
    name: str
    description: str
    condition: str = ""
    segment_id: int | None = None
    filter: Filter | None = None

    @property
    def system(self) -> bool:
        """Whether this segment comes with every workspace (and cannot be renamed or deleted)."""
        return self.segment_id is None


SYSTEM_SEGMENTS: dict[str, Segment] = {
    s.key: s
    for s in (
        Segment(key="all", name="All contacts", condition="NOT c.blocked", description="Every contact not blocked"),
        Segment(
            key="mine",
            name="My contacts",
            condition="NOT c.blocked AND c.owner_id = $user",
            description="Contacts you own",
        ),
        Segment(
            key="unassigned",
            name="Unassigned",
            condition="NOT c.blocked AND c.owner_id IS NULL",
            description="Contacts without an owner",
        ),
        Segment(key="blocked", name="Blocked", condition="c.blocked", description="Blocked contacts"),
    )
}


def _saved(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: dict[str, Any] | None = None) -> list[Segment]:
    found = rows(con, f"SELECT segment_id, name, filter FROM segments WHERE {where} ORDER BY lower(name)", params)
    fields = filter_fields(con) if found else {}
    segments = []
    for segment_id, name, stored in found:
        filter_ = parse_filter(stored)
        try:
            description = describe_filter(filter_, fields)
        except ContactsError as error:  # e.g. a lead stage since removed: say so rather than hide the segment
            description = f"Needs fixing: {error.message}"
        segments.append(
            Segment(
                key=f"{SAVED_PREFIX}{segment_id}",
                name=name,
                description=description,
                segment_id=segment_id,
                filter=filter_,
            )
        )
    return segments


def saved_segments(con: duckdb.DuckDBPyConnection) -> list[Segment]:
    """Every saved segment, by name."""
    return _saved(con)


def all_segments(con: duckdb.DuckDBPyConnection) -> list[Segment]:
    """System segments first, then saved ones by name."""
    return [*SYSTEM_SEGMENTS.values(), *saved_segments(con)]


def find_segment(con: duckdb.DuckDBPyConnection, reference: str | int) -> Segment:
    """A segment by key ('all', 'saved-3'), name (any case) or saved segment ID."""
    text = str(reference).strip()
    for candidate in SYSTEM_SEGMENTS.values():
        if text.lower() in (candidate.key, candidate.name.lower()):
            return candidate
    by_name = _saved(con, "lower(name) = lower($name)", {"name": text})
    if by_name:
        return by_name[0]
    number = text.removeprefix(SAVED_PREFIX)
    if number.isdigit():
        by_id = _saved(con, "segment_id = $id", {"id": int(number)})
        if by_id:
            return by_id[0]
    names = ", ".join(segment.name for segment in all_segments(con))
    raise ContactsError(f"There is no segment '{text}'. Segments: {names}.", field="segment")


def segment_condition(con: duckdb.DuckDBPyConnection, segment: str | int, user: str) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and parameters of a segment, found by key, name or ID."""
    found = find_segment(con, segment)
    if found.system:
        return f"({found.condition})", {"user": user} if "$user" in found.condition else {}
    where, params = compile_filter(found.filter, filter_fields(con), prefix="s", store=dialect(con))
    return f"(NOT c.blocked AND {where})", params


def _clean_name(con: duckdb.DuckDBPyConnection, name: str, keep_id: int | None = None) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME_LENGTH:
        raise ContactsError(f"A segment name is 1 to {MAX_NAME_LENGTH} characters.", field="name")
    taken = {s.name.lower() for s in SYSTEM_SEGMENTS.values()} | set(SYSTEM_SEGMENTS)
    if text.lower() in taken or text.lower().startswith(SAVED_PREFIX) or text.isdigit():
        raise ContactsError(f"'{text}' is reserved; choose another name.", field="name")
    clash = scalar(
        con,
        "SELECT count(*) FROM segments WHERE lower(name) = lower($name) AND segment_id <> $id",
        {"name": text, "id": keep_id or -1},
    )
    if clash:
        raise ContactsError(f"There is already a segment called '{text}'.", field="name")
    return text


def _checked(con: duckdb.DuckDBPyConnection, filter_: Filter) -> Filter:
    if filter_.is_empty():
        raise ContactsError("Add at least one condition before saving the filter as a segment.", field="filter")
    check_filter(filter_fields(con), filter_)
    return filter_


@writes("segments.save")
def save_segment(con: duckdb.DuckDBPyConnection, name: str, filter_: Filter, actor: str) -> Segment:
    """Save a filter as a segment under a new name."""
    checked = _checked(con, filter_)
    with transaction(con):
        clean = _clean_name(con, name)
        moment = now()
        segment_id = scalar(
            con,
            "INSERT INTO segments (name, filter, created_by, created_at, updated_at) "
            "VALUES ($name, $filter, $actor, $at, $at) RETURNING segment_id",
            {"name": clean, "filter": filter_json(checked), "actor": actor, "at": moment},
        )
    return find_segment(con, f"{SAVED_PREFIX}{segment_id}")


def _saved_only(con: duckdb.DuckDBPyConnection, reference: str | int) -> Segment:
    found = find_segment(con, reference)
    if found.system:
        raise ContactsError(f"'{found.name}' is a system segment; it cannot be changed or deleted.", field="segment")
    return found


@writes("segments.manage")
def rename_segment(con: duckdb.DuckDBPyConnection, reference: str | int, new_name: str, actor: str) -> Segment:
    """Give a saved segment a new name."""
    found = _saved_only(con, reference)
    with transaction(con):
        clean = _clean_name(con, new_name, keep_id=found.segment_id)
        con.execute(
            "UPDATE segments SET name = $name, updated_at = $at WHERE segment_id = $id",
            {"name": clean, "at": now(), "id": found.segment_id},
        )
    return find_segment(con, found.key)


@writes("segments.manage")
def update_segment_filter(con: duckdb.DuckDBPyConnection, reference: str | int, filter_: Filter, actor: str) -> Segment:
    """Replace a saved segment's conditions (edited in the Segments page's filter builder); its name stays."""
    found = _saved_only(con, reference)
    checked = _checked(con, filter_)
    with transaction(con):
        con.execute(
            "UPDATE segments SET filter = $filter, updated_at = $at WHERE segment_id = $id",
            {"filter": filter_json(checked), "at": now(), "id": found.segment_id},
        )
    return find_segment(con, found.key)


@writes("segments.manage")
def delete_segment(con: duckdb.DuckDBPyConnection, reference: str | int, actor: str) -> None:
    """Delete a saved segment (its contacts stay)."""
    found = _saved_only(con, reference)
    con.execute("DELETE FROM segments WHERE segment_id = $id", {"id": found.segment_id})


def segment_count(con: duckdb.DuckDBPyConnection, reference: str | int, user: str) -> int:
    """How many contacts the segment holds right now."""
    where, params = segment_condition(con, reference, user)
    return scalar(con, f"SELECT count(*) FROM contacts c WHERE {where}", params)


def segment_summaries(con: duckdb.DuckDBPyConnection, user: str) -> pl.DataFrame:
    """Every segment with its kind, current count and description (a segment that fails to compile counts null)."""
    records = []
    for segment in all_segments(con):
        try:
            count: int | None = segment_count(con, segment.key, user)
        except ContactsError:
            count = None
        kind = "system" if segment.system else "saved"
        records.append(
            {
                "key": segment.key,
                "name": segment.name,
                "kind": kind,
                "contacts": count,
                "description": segment.description,
            }
        )
    schema = {"key": pl.String, "name": pl.String, "kind": pl.String, "contacts": pl.Int64, "description": pl.String}
    return pl.DataFrame(records, schema=schema)


def segment_composition(
    con: duckdb.DuckDBPyConnection,
    reference: str | int,
    user: str,
    by: CompositionField,
) -> pl.DataFrame:
    """How many of the segment's contacts have each value of a field (blank shown as '(none)'), largest first."""
    if by not in COMPOSITION_FIELDS:
        raise ContactsError(f"A segment can be broken down by {', '.join(COMPOSITION_FIELDS)}.", field="by")
    where, params = segment_condition(con, reference, user)
    label = "coalesce(o.name, c.owner_id)" if by == "owner_id" else f"c.{by}"
    return frame(
        con,
        f"SELECT coalesce({label}, '(none)') AS value, count(*) AS contacts FROM contacts c "
        f"LEFT JOIN owners o ON o.owner_id = c.owner_id WHERE {where} GROUP BY 1 ORDER BY contacts DESC, value",
        params,
    )
