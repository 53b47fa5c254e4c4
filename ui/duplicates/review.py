"""Reviewing groups: the list of groups, one group's pairs and evidence, contacts side by side, "not duplicates"."""

from collections.abc import Iterable

import duckdb
import polars as pl
import streamlit as st

from core.contacts.models import Contact
from core.contacts.records import load_contacts
from core.contacts.validation import custom_fields
from core.duplicates import current_pairs, group_of, mark_not_duplicates
from core.duplicates.store import Kind
from core.errors import ContactsError
from core.workspace import owners
from ui.duplicates.cache import cached_names, forget_groups
from ui.duplicates.display import COLUMNS, full_height, label, side_by_side
from ui.duplicates.notices import flash
from ui.session import plain
from ui.widgets import show_error

KINDS: dict[str, Kind | None] = {"All": None, "Exact": "exact", "Likely": "likely"}
SORTS: dict[str, tuple[list[str], list[bool]]] = {
    "Best score": (["best_score", "size", "group_id"], [True, True, False]),
    "Size": (["size", "best_score", "group_id"], [True, True, False]),
    "Kind": (["kind", "best_score", "group_id"], [False, True, False]),  # exact before likely
}
GROUP_LIST_COLUMNS = {
    "members": st.column_config.TextColumn("Contacts", width="large"),
    "size": st.column_config.NumberColumn("Size", width="small"),
    "best_score": st.column_config.NumberColumn("Best score", format="percent", width="small"),
    "weakest_score": st.column_config.NumberColumn(
        "Weakest link", format="percent", width="small", help="The lowest score among the pairs that make the group"
    ),
    "kind": st.column_config.TextColumn("Kind", width="small"),
    "evidence": st.column_config.TextColumn("Evidence", width="large"),
}
NAMED_MEMBERS = 6  # a group's row names this many of its contacts, then says how many more


def contacts_by_id(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, Contact]:
    """The contacts that still exist, by ID, in the order asked (one read for all of them)."""
    wanted = list(dict.fromkeys(ids))
    found = load_contacts(con, wanted)
    return {contact_id: found[contact_id] for contact_id in wanted if contact_id in found}


def group_rows(con: duckdb.DuckDBPyConnection, summaries: pl.DataFrame) -> pl.DataFrame:
    """One page of group summaries as the list shows them: the members by name, size, score, kind, evidence."""
    shown = summaries["contact_ids"].list.head(NAMED_MEMBERS).explode().drop_nulls()
    people = cached_names(con, tuple(shown))

    def names(ids: list[str]) -> str:
        named = [people.get(i, f"(gone) {i}") for i in ids[:NAMED_MEMBERS]]
        return ", ".join(named) + (f" and {len(ids) - NAMED_MEMBERS} more" if len(ids) > NAMED_MEMBERS else "")

    members = [names(ids) for ids in summaries["contact_ids"].to_list()]
    return summaries.select(
        pl.Series("members", members, dtype=pl.String), "size", "best_score", "weakest_score", "kind", "evidence"
    )


def evidence_table(
    con: duckdb.DuckDBPyConnection, ids: list[str], names: dict[str, str], min_score: float
) -> pl.DataFrame:
    """Every pair inside the group with its kind, score and evidence."""
    pairs = current_pairs(con, min_score, touching=ids).filter(
        pl.col("contact_a").is_in(ids) & pl.col("contact_b").is_in(ids)
    )
    return pairs.select(
        pl.col("contact_a").replace_strict(names, default=pl.col("contact_a")).alias("Contact"),
        pl.col("contact_b").replace_strict(names, default=pl.col("contact_b")).alias("Same person as"),
        pl.col("kind").alias("Kind"),
        pl.col("score").alias("Score"),
        pl.col("evidence").alias("Evidence"),
    )


def reasons_table(group: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Why each member is in the group: its best link inside it, to whom, the score and the evidence."""
    named = pl.col("contact_id").replace_strict(names, default=pl.col("contact_id"))
    return group.filter(pl.col("contact_id").is_in(list(names))).select(
        named.alias("Contact"),
        pl.col("linked_to").replace_strict(names, default=pl.col("linked_to")).alias("Best link to"),
        pl.col("score").alias("Score"),
        pl.col("evidence").alias("Evidence"),
    )


def review_contacts(con: duckdb.DuckDBPyConnection, contacts: dict[str, Contact]) -> dict[str, str]:
    """A link to each contact, then their fields side by side with the differences highlighted; the owners' names."""
    links = st.columns(min(len(contacts), 4))
    for index, contact in enumerate(contacts.values()):
        links[index % len(links)].page_link(
            "pages/contact.py",
            label=plain(label(contact)),
            icon=":material/person:",
            query_params={"id": contact.contact_id},
        )
    owner_names = owners(con)
    side = side_by_side(list(contacts.values()), {f.key: f.label for f in custom_fields(con)}, owner_names)
    st.dataframe(side, hide_index=True, column_config=COLUMNS, height=full_height(len(side.data)))
    return owner_names


def not_duplicates_controls(
    con: duckdb.DuckDBPyConnection, group_id: str, names: dict[str, str], min_score: float, actor: str
) -> None:
    """Record that some members are different people: their pairs are not proposed again."""
    different = st.multiselect(
        "Contacts that are different people", list(names), format_func=names.__getitem__, key=f"different-{group_id}"
    )
    if st.button("Mark as not duplicates", icon=":material/call_split:", disabled=len(different) < 2):
        try:
            mark_not_duplicates(con, different, actor)
        except ContactsError as error:
            show_error(error)
            return
        forget_groups()
        if group_of(con, group_id, min_score).is_empty():
            st.query_params.pop("group", None)
        flash(f"Marked {len(different)} contacts as different people: they are not proposed as duplicates again.")
        st.rerun()
