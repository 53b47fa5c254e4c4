"""What the page says between runs: when duplicates were last looked for, and how the last write went."""

import polars as pl
import streamlit as st

from core.duplicates import DuplicateRun
from ui.session import plain

FLASH_KEY = "duplicates_flash"
ROUND_KEY = "duplicates_round"  # bumped after each write so the tables' selections start afresh


def run_line(run: DuplicateRun) -> str:
    """'Last looked for duplicates on … by …, over N contacts in S s: E exact and L likely pairs.'"""
    likely = "likely pairs not looked for" if run.exact_only else f"{run.likely_pairs:,} likely"
    return (
        f"Last looked for duplicates on {run.finished_at:%Y-%m-%d %H:%M} by {plain(run.actor)}, over "
        f"{run.contacts:,} contacts in {run.seconds:.1f} s: {run.exact_pairs:,} exact and {likely} pairs."
    )


def rule_counts(run: DuplicateRun) -> pl.DataFrame:
    """What each blocking rule proposed in the run, as the run summary shows it."""
    return pl.DataFrame(
        [count.model_dump() for count in run.rules],
        schema={"rule": pl.String, "pairs": pl.Int64, "left_out": pl.Int64, "largest_block": pl.Int64},
    ).rename(
        {
            "rule": "Rule",
            "pairs": "Pairs",
            "left_out": "Left out (block cap or budget)",
            "largest_block": "Largest block",
        }
    )


def flash(message: str, link_to: str | None = None) -> None:
    """A message for the next run of the page (after st.rerun), with an optional contact to link to."""
    st.session_state[FLASH_KEY] = (message, link_to)
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1


def show_flash() -> None:
    """The message the last write left, once, with its link."""
    if FLASH_KEY in st.session_state:
        message, link_to = st.session_state.pop(FLASH_KEY)
        st.success(message, icon=":material/check_circle:")
        if link_to:
            st.page_link(
                "pages/contact.py",
                label="Open the merged contact",
                icon=":material/person:",
                query_params={"id": link_to},
            )
