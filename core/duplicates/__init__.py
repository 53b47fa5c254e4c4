"""Duplicates: exact and likely pairs of contacts that are one person, grouped, with their evidence."""

from core.duplicates.exact import exact_pairs
from core.duplicates.groups import components, group_members
from core.duplicates.keys import email_key
from core.duplicates.likely import likely_pairs
from core.duplicates.store import (
    DEFAULT_MIN_SCORE,
    DuplicateRun,
    current_pairs,
    duplicate_groups,
    find_duplicates,
    group_of,
    group_summaries,
    last_run,
    mark_not_duplicates,
    same_email_or_phone,
)

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DuplicateRun",
    "components",
    "current_pairs",
    "duplicate_groups",
    "email_key",
    "exact_pairs",
    "find_duplicates",
    "group_members",
    "group_of",
    "group_summaries",
    "last_run",
    "likely_pairs",
    "mark_not_duplicates",
    "same_email_or_phone",
]
