"""Merging many groups at once: every group above a score (or every exact group), a rule picks each primary.

Groups larger than core.duplicates.merge_plan.MAX_MERGE are left for someone to review. The plan is computed first so
the user sees how many groups and contacts it touches; the merge itself is one set-based transaction.
"""

from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict

from core.accounts.permissions import writes
from core.contacts.custom_values import held_values_sql
from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.validation import blank
from core.db import frame, scratch
from core.duplicates.merge import MergeSummary, merge_groups
from core.duplicates.merge_plan import MAX_MERGE
from core.duplicates.store import DEFAULT_MIN_SCORE, Kind, duplicate_groups

Rule = Literal["oldest", "recent", "complete"]
RULES: dict[Rule, str] = {
    "oldest": "Oldest (created first)",
    "recent": "Most recently updated",
    "complete": "Most complete (most fields filled in)",
}
# Fields that say nothing about how complete a contact is: every contact has them.
ALWAYS_SET = {
    "contact_id",
    "lead_stage",
    "email_subscription",
    "sms_subscription",
    "source",
    "name_generated",
    "created_on",
    "last_updated",
    "blocked",
}


def most_complete(contacts: list[Contact]) -> str:
    """The ID of the contact with the most fields filled in (ties: the oldest): the page's default primary.

    The same rule as plan_bulk_merge's "complete", for contacts already read.
    """

    def filled(contact: Contact) -> int:
        values = contact.model_dump(exclude=ALWAYS_SET | {"custom", "version"})
        return sum(not blank(v) for v in values.values()) + sum(not blank(v) for v in contact.custom.values())

    return sorted(contacts, key=lambda c: (-filled(c), c.created_on, c.contact_id))[0].contact_id


class BulkMergePlan(BaseModel):
    """What merging every chosen group would do, before it is done."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    groups: int  # groups that will be merged
    contacts: int  # secondaries that will be merged into their primaries and deleted
    too_large: int  # groups above MAX_MERGE, left for review
    too_large_contacts: int
    rule: Rule
    assignments: pl.DataFrame  # primary_id, contact_id: every member of every group to merge


def _filled() -> str:
    """How many of a contact's fields hold something (its custom values are added separately)."""
    checks = []
    for field in SYSTEM_FIELDS:
        if field.key in ALWAYS_SET:
            continue
        column = f"c.{field.key}"
        if field.type == "tags":
            checks.append(f"(len({column}) > 0)::INT")
        elif field.type in ("text", "email", "phone", "owner", "choice"):
            checks.append(f"({column} IS NOT NULL AND trim({column}) <> '')::INT")
        else:
            checks.append(f"({column} IS NOT NULL)::INT")
    return " + ".join(checks)


_ORDER: dict[Rule, str] = {
    "oldest": "created_on ASC, contact_id",
    "recent": "last_updated DESC, contact_id",
    "complete": "filled DESC, created_on ASC, contact_id",
}


def plan_bulk_merge(
    con: duckdb.DuckDBPyConnection,
    min_score: float = DEFAULT_MIN_SCORE,
    kind: Kind | None = None,
    rule: Rule = "complete",
) -> BulkMergePlan:
    """Which groups would merge, into which primary, and which are too large to merge unseen."""
    if rule not in RULES:
        raise ValueError(f"A primary rule is one of {', '.join(RULES)}.")
    members = duplicate_groups(con, min_score, kind).select("group_id", "contact_id", "size")
    large = members.filter(pl.col("size") > MAX_MERGE)
    mergeable = members.filter(pl.col("size") <= MAX_MERGE)
    with scratch(con, mergeable) as chosen:
        assignments = frame(
            con,
            f"""
            WITH scored AS (
                SELECT m.group_id, m.contact_id, c.created_on, c.last_updated,
                       {_filled()} + coalesce(v.custom_filled, 0) AS filled
                FROM {chosen} m JOIN contacts c ON c.contact_id = m.contact_id
                LEFT JOIN (SELECT contact_id, count(*) AS custom_filled FROM ({held_values_sql(con)})
                           WHERE contact_id IN (SELECT contact_id FROM {chosen}) GROUP BY contact_id) v
                  ON v.contact_id = m.contact_id
            )
            SELECT first_value(contact_id) OVER (PARTITION BY group_id ORDER BY {_ORDER[rule]}) AS primary_id,
                   contact_id
            FROM scored ORDER BY primary_id, contact_id
            """,
        )
    groups = assignments["primary_id"].n_unique()
    return BulkMergePlan(
        groups=groups,
        contacts=assignments.height - groups,
        too_large=large["group_id"].n_unique(),
        too_large_contacts=large.height,
        rule=rule,
        assignments=assignments,
    )


@writes("duplicates.merge")
def run_bulk_merge(con: duckdb.DuckDBPyConnection, plan: BulkMergePlan, actor: str) -> MergeSummary:
    """Merge every group of the plan in one transaction (all of them, or none on a failure)."""
    return merge_groups(con, plan.assignments, actor)
