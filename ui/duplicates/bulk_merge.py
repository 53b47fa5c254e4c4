"""Many groups merged at once, each into the primary a rule picks, once confirmed; then the primaries kept."""

import duckdb
import polars as pl
import streamlit as st

from core.duplicates.bulk import RULES as PRIMARY_RULES
from core.duplicates.bulk import BulkMergePlan, plan_bulk_merge, run_bulk_merge
from core.duplicates.merge_plan import MAX_MERGE
from core.duplicates.store import Kind
from ui.dialogs import confirm
from ui.duplicates.cache import forget_groups
from ui.duplicates.merge import MERGE_ICON
from ui.duplicates.notices import flash
from ui.duplicates.review import contacts_by_id
from ui.session import db, user

BULK_MERGED_KEY = "bulk_merged"  # the primaries a bulk merge kept, listed on the next run
SHOWN_PRIMARIES = 500


def ask_to_merge_all(plan: BulkMergePlan) -> None:
    """Say how many groups and contacts the merge takes, and merge them all on "Yes, merge N groups"."""

    def merge_all() -> None:
        summary = run_bulk_merge(db(), plan, user())
        forget_groups()
        st.query_params.pop("group", None)
        done = f"Merged {summary.groups:,} groups: {summary.contacts_merged:,} contacts merged into their primaries."
        skipped = f" {summary.skipped:,} groups changed since the plan and were left alone." * bool(summary.skipped)
        flash(done + skipped)
        st.session_state[BULK_MERGED_KEY] = plan.assignments["primary_id"].unique().sort().to_list()

    message = (
        f"Merge {plan.groups:,} groups: {plan.contacts:,} contacts are merged into {plan.groups:,} primaries "
        "and deleted. This cannot be undone."
    )
    confirm("Merge duplicates", message, f"Yes, merge {plan.groups:,} groups", merge_all, icon=MERGE_ICON)


def bulk_merge_controls(con: duckdb.DuckDBPyConnection, min_score: float, kind: Kind | None, view: tuple) -> None:
    """Every group of the list merged at once, each into the primary a rule picks, after a confirmation."""
    rule = st.selectbox("Primary of each group", list(PRIMARY_RULES), format_func=PRIMARY_RULES.__getitem__)
    wanted = (*view, rule)
    if st.session_state.get("bulk_plan_for") != wanted:  # planning groups every contact: once per view
        plan = plan_bulk_merge(con, min_score, kind, rule)
        st.session_state.update(bulk_plan=plan, bulk_plan_for=wanted)
    plan = st.session_state.bulk_plan
    st.write(
        f"{plan.groups:,} groups, {plan.contacts:,} contacts will be merged into {plan.groups:,} primaries "
        f"(the groups listed above); {plan.too_large:,} groups larger than {MAX_MERGE} are left for review."
    )
    if st.button(f"Merge {plan.groups:,} groups", type="primary", disabled=not plan.groups):
        ask_to_merge_all(plan)


def merged_primaries(con: duckdb.DuckDBPyConnection) -> None:
    """After a bulk merge: the primaries it kept, each linking to its details."""
    primaries = st.session_state.pop(BULK_MERGED_KEY, None)
    if not primaries:
        return
    kept = contacts_by_id(con, primaries[:SHOWN_PRIMARIES])
    table = pl.DataFrame(
        {
            "Contact": [kept[i].display_name for i in kept],
            "ID": list(kept),
            "Tags": [", ".join(kept[i].tags) for i in kept],
            "Open": [f"contact?id={i}" for i in kept],
        },
        schema={"Contact": pl.String, "ID": pl.String, "Tags": pl.String, "Open": pl.String},
    )
    shown = f" (the first {SHOWN_PRIMARIES})" if len(primaries) > SHOWN_PRIMARIES else ""
    st.caption(f"Merged primaries{shown}:")
    st.dataframe(table, hide_index=True, column_config={"Open": st.column_config.LinkColumn(display_text="Open")})
