"""The dashboard: figures computed in SQL (figures.py), the list filter behind each of them (drill.py), the
calling-code countries (countries.py) and the periods of the over-time chart (periods.py)."""

from core.dashboard.figures import (
    BREAKDOWNS,
    Breakdown,
    DuplicateRate,
    Kpis,
    breakdowns,
    completeness_fields,
    contacts_by_country,
    contacts_by_owner,
    contacts_over_time,
    created_range,
    data_stamp,
    duplicate_rate,
    field_completeness,
    kpis,
    kpis_and_completeness,
    lead_stage_funnel,
    recent_activity,
    subscriptions,
    top_tags,
)
from core.dashboard.periods import GRAINS, Grain

__all__ = [
    "BREAKDOWNS",
    "GRAINS",
    "Breakdown",
    "DuplicateRate",
    "Grain",
    "Kpis",
    "breakdowns",
    "completeness_fields",
    "contacts_by_country",
    "contacts_by_owner",
    "contacts_over_time",
    "created_range",
    "data_stamp",
    "duplicate_rate",
    "field_completeness",
    "kpis",
    "kpis_and_completeness",
    "lead_stage_funnel",
    "recent_activity",
    "subscriptions",
    "top_tags",
]
