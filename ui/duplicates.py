"""Pieces of the Duplicates page: the cached group list, contacts side by side, the merge preview and the
confirmations. Every value from the database reaches the screen as a table cell or escaped text."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import streamlit as st
from pandas.io.formats.style import Styler

from core.config import database_path
from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.records import find_contact
from core.contacts.validation import blank, custom_fields
from core.duplicates import DuplicateRun, current_pairs, duplicate_groups, group_of, mark_not_duplicates
from core.duplicates.bulk import RULES as PRIMARY_RULES
from core.duplicates.bulk import BulkMergePlan, most_complete, plan_bulk_merge, run_bulk_merge
from core.duplicates.merge import MAX_MERGE, MergePreview, merge_contacts, preview_merge
from core.errors import ContactsError
from core.workspace import IDENTITY_FIELD_TYPES, owners, set_identity_fields
from ui.session import db, plain, user
from ui.widgets import show_error

KINDS: dict[str, str | None] = {"All": None, "Exact": "exact", "Likely": "likely"}
SORTS: dict[str, tuple[list[str], list[bool]]] = {
    "Best score": (["best_score", "size", "group_id"], [True, True, False]),
    "Size": (["size", "best_score", "group_id"], [True, True, False]),
    "Kind": (["kind", "best_score", "group_id"], [False, True, False]),  # exact before likely
}
DIFFERS = "≠"
COLUMNS = {  # column_config for the side-by-side and preview tables
    "Field": st.column_config.TextColumn("Field", width="medium"),
    DIFFERS: st.column_config.TextColumn(DIFFERS, width=40, help="The contacts hold different values"),
}
ROW_HEIGHT = 35  # Streamlit's default: a table this tall shows every row without scrolling
HIGHLIGHT = "background-color: rgba(255, 189, 69, 0.25)"
FLASH_KEY = "duplicates_flash"
ROUND_KEY = "duplicates_round"  # bumped after each write so the tables' selections start afresh
# Shown side by side but not worth a row: the header names the contact, and these say nothing when false.
_NOT_A_ROW = {"contact_id", "name_generated", "blocked"}


# --- The group list, computed once per run, threshold and kind (and again after a merge or a mark) ---


@st.cache_data(ttl=300, max_entries=16, show_spinner="Grouping duplicates…")
def _groups(
    _con: duckdb.DuckDBPyConnection, path: str, run_id: int, min_score: float, kind: str | None
) -> pl.DataFrame:
    return duplicate_groups(_con, min_score, kind)  # type: ignore[arg-type]


def cached_groups(
    con: duckdb.DuckDBPyConnection, run: DuplicateRun, min_score: float, kind: str | None
) -> pl.DataFrame:
    """The members of every group of the last run at this threshold and kind (see duplicate_groups)."""
    return _groups(con, str(database_path()), run.run_id, round(min_score, 2), kind)


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _names(_con: duckdb.DuckDBPyConnection, path: str, ids: tuple[str, ...]) -> dict[str, str]:
    return {contact_id: contact.display_name for contact_id, contact in contacts_by_id(_con, ids).items()}


def forget_groups() -> None:
    """Contacts were merged or marked different: every cached list is out of date."""
    _groups.clear()
    _names.clear()


def flash(message: str, link_to: str | None = None) -> None:
    """A message for the next run of the page (after st.rerun), with an optional contact to link to."""
    st.session_state[FLASH_KEY] = (message, link_to)
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1


def show_flash() -> None:
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


def run_line(run: DuplicateRun) -> str:
    """'Last looked for duplicates on … by …, over N contacts in S s: E exact and L likely pairs.'"""
    likely = "likely pairs not looked for" if run.exact_only else f"{run.likely_pairs:,} likely"
    return (
        f"Last looked for duplicates on {run.finished_at:%Y-%m-%d %H:%M} by {plain(run.actor)}, over "
        f"{run.contacts:,} contacts in {run.seconds:.1f} s: {run.exact_pairs:,} exact and {likely} pairs."
    )


# --- Contacts, by ID ---


def contacts_by_id(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, Contact]:
    """The contacts that still exist, by ID (one lookup each: the callers ask for one page of groups)."""
    found = {contact_id: find_contact(con, contact_id) for contact_id in dict.fromkeys(ids)}
    return {contact_id: contact for contact_id, contact in found.items() if contact is not None}


def label(contact: Contact) -> str:
    """How a contact is named in lists and headers: its name and its ID."""
    return f"{contact.display_name} · {contact.contact_id}"


GROUP_LIST_COLUMNS = {
    "members": st.column_config.TextColumn("Contacts", width="large"),
    "size": st.column_config.NumberColumn("Size", width="small"),
    "best_score": st.column_config.NumberColumn("Best score", format="percent", width="small"),
    "kind": st.column_config.TextColumn("Kind", width="small"),
    "evidence": st.column_config.TextColumn("Evidence", width="large"),
}
NAMED_MEMBERS = 6  # a group's row names this many of its contacts, then says how many more


def group_rows(con: duckdb.DuckDBPyConnection, summaries: pl.DataFrame) -> pl.DataFrame:
    """One page of group summaries as the list shows them: the members by name, size, score, kind, evidence."""
    shown = summaries["contact_ids"].list.head(NAMED_MEMBERS).explode().drop_nulls()
    # One lookup per contact (core has no bulk one), so a page's names are cached like the groups.
    people = _names(con, str(database_path()), tuple(shown))

    def names(ids: list[str]) -> str:
        named = [people.get(i, f"(gone) {i}") for i in ids[:NAMED_MEMBERS]]
        return ", ".join(named) + (f" and {len(ids) - NAMED_MEMBERS} more" if len(ids) > NAMED_MEMBERS else "")

    members = [names(ids) for ids in summaries["contact_ids"].to_list()]
    return summaries.select(pl.Series("members", members, dtype=pl.String), "size", "best_score", "kind", "evidence")


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


def text(value: Any, owners: dict[str, str] | None = None, key: str = "") -> str:
    """A value as people read it: lists joined, times to the minute, owners by name, blank as ''."""
    if blank(value):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "owner_id" and owners:
        return owners.get(value, value)
    return str(value)


def _highlighted(table: pd.DataFrame) -> Styler:
    """Rows whose values differ get a background; the ≠ column says the same for screen readers and tests."""
    marked = table.assign(**{DIFFERS: table[DIFFERS].map({True: DIFFERS, False: ""})})
    return marked.style.apply(lambda row: [HIGHLIGHT if row[DIFFERS] else ""] * len(row), axis=1)


def full_height(rows: int) -> int:
    """A table height that shows every row (the header included) without an inner scroll bar."""
    return ROW_HEIGHT * (rows + 1) + 3


def side_by_side(contacts: list[Contact], custom_labels: dict[str, str], owners: dict[str, str]) -> Styler:
    """One column per contact, one row per field any of them holds; rows where they differ are marked."""
    headers = [label(contact) for contact in contacts]
    fields = [(f.key, f.label, lambda c, k=f.key: getattr(c, k)) for f in SYSTEM_FIELDS if f.key not in _NOT_A_ROW]
    stray = {key: key for c in contacts for key in c.custom if key not in custom_labels}
    fields += [(key, name, lambda c, k=key: c.custom.get(k)) for key, name in (custom_labels | stray).items()]
    records = []
    for key, name, read in fields:
        values = [text(read(contact), owners, key) for contact in contacts]
        if any(values):
            records.append({"Field": name, DIFFERS: len(set(values)) > 1, **dict(zip(headers, values, strict=True))})
    return _highlighted(pd.DataFrame.from_records(records, columns=["Field", DIFFERS, *headers]))


def preview_table(preview: MergePreview, names: dict[str, str], owners: dict[str, str]) -> Styler:
    """The merged contact field by field: the value, the contact it comes from, how it was chosen."""
    records = [
        {
            "Field": field.label,
            DIFFERS: field.differs,
            "Merged value": text(field.value, owners, field.key)
            if field.key != "last_updated"
            else "time of the merge",
            "From": "every contact" if field.key == "tags" else names.get(field.source_id, field.source_id or ""),
            "Rule": field.rule,
        }
        for field in preview.fields
        if field.differs or not (blank(field.value) or field.value is False)
    ]
    return _highlighted(pd.DataFrame.from_records(records, columns=["Field", DIFFERS, "Merged value", "From", "Rule"]))


MOVED = {  # what moves, one and many
    "conversations": ("conversation", "conversations"),
    "tickets": ("ticket", "tickets"),
    "notes": ("note", "notes"),
    "media": ("media file", "media files"),
    "activity": ("activity entry", "activity entries"),
}


def moves_sentence(moves: dict[str, int]) -> str:
    """'Moves to the primary: 3 conversations, 1 ticket, …' (nothing when nothing moves)."""
    parts = [f"{n:,} {MOVED.get(kind, (kind, kind))[n != 1]}" for kind, n in moves.items() if n]
    return "Moves to the primary: " + ", ".join(parts) + "." if parts else "No records move: the secondaries have none."


# --- Confirmations: the only places that write ---


@st.dialog("Merge duplicates", icon=":material/merge:")
def confirm_merge(preview: MergePreview, names: dict[str, str]) -> None:
    """Say what the merge does, irreversibly, and merge on "Yes, merge" (a cursor of this run: dialogs rerun alone)."""
    count = len(preview.secondary_ids) + 1
    others = (
        f"The other {count - 1} contacts are deleted after their"
        if count > 2
        else f"{plain(names[preview.secondary_ids[0]])} is deleted after its"
    )
    st.write(
        f"Merge {count} contacts into **{plain(names[preview.primary_id])}**? {others} conversations, tickets, "
        "notes, media and activity move to the primary. This cannot be undone."
    )
    buttons = st.columns(2)
    if buttons[1].button("Cancel", width="stretch"):
        st.rerun()
    if buttons[0].button("Yes, merge", type="primary", icon=":material/merge:", width="stretch"):
        try:
            merged = merge_contacts(db(), preview.primary_id, preview.secondary_ids, user(), preview.versions)
        except ContactsError as error:
            st.error(f"{error.message} Nothing was changed.", icon=":material/error:")
            return
        forget_groups()
        st.query_params.pop("group", None)
        st.query_params.pop("merge", None)
        flash(f"Merged {count} contacts into {plain(label(merged))}.", merged.contact_id)
        st.rerun()


@st.dialog("Merge duplicates", icon=":material/merge:")
def confirm_bulk_merge(plan: BulkMergePlan) -> None:
    """Say how many groups and contacts the merge takes, and merge them all on "Yes, merge N groups"."""
    st.write(
        f"Merge {plan.groups:,} groups: {plan.contacts:,} contacts are merged into {plan.groups:,} primaries "
        "and deleted. This cannot be undone."
    )
    buttons = st.columns(2)
    if buttons[1].button("Cancel", width="stretch"):
        st.rerun()
    if buttons[0].button(
        f"Yes, merge {plan.groups:,} groups", type="primary", icon=":material/merge:", width="stretch"
    ):
        try:
            summary = run_bulk_merge(db(), plan, user())
        except ContactsError as error:
            st.error(f"{error.message} Nothing was changed.", icon=":material/error:")
            return
        forget_groups()
        st.query_params.pop("group", None)
        done = f"Merged {summary.groups:,} groups: {summary.contacts_merged:,} contacts merged into their primaries."
        skipped = f" {summary.skipped:,} groups changed since the plan and were left alone." * bool(summary.skipped)
        flash(done + skipped)
        st.session_state["bulk_merged"] = plan.assignments["primary_id"].unique().sort().to_list()
        st.rerun()


def merged_primaries(con: duckdb.DuckDBPyConnection) -> None:
    """After a bulk merge: the primaries it kept, each linking to its details."""
    primaries = st.session_state.pop("bulk_merged", None)
    if not primaries:
        return
    kept = contacts_by_id(con, primaries[:500])
    table = pl.DataFrame(
        {
            "Contact": [kept[i].display_name for i in kept],
            "ID": list(kept),
            "Tags": [", ".join(kept[i].tags) for i in kept],
            "Open": [f"contact?id={i}" for i in kept],
        },
        schema={"Contact": pl.String, "ID": pl.String, "Tags": pl.String, "Open": pl.String},
    )
    st.caption(f"Merged primaries{' (the first 500)' if len(primaries) > 500 else ''}:")
    st.dataframe(table, hide_index=True, column_config={"Open": st.column_config.LinkColumn(display_text="Open")})


# --- The controls under an open group, and "merge many" ---


def merge_controls(
    con: duckdb.DuckDBPyConnection, group_id: str, contacts: dict[str, Contact], owners: dict[str, str]
) -> None:
    """Choose the contacts and the primary, preview the merged contact, and merge after a confirmation."""
    ids, names = list(contacts), {i: label(c) for i, c in contacts.items()}
    if len(ids) > MAX_MERGE:
        st.warning(f"This group has {len(ids)} contacts; at most {MAX_MERGE} merge at one time: pick them.")
    chosen = st.multiselect(
        "Contacts to merge",
        ids,
        default=ids if len(ids) <= MAX_MERGE else [],
        format_func=names.get,
        max_selections=MAX_MERGE,
        key=f"merge-members-{group_id}",
    )
    if len(chosen) < 2:
        st.caption("Choose at least 2 contacts to merge.")
        return
    best = most_complete([contacts[i] for i in chosen])
    primary = st.radio(
        "Primary contact (its values win; the others fill its blanks)",
        chosen,
        index=chosen.index(best),
        format_func=lambda i: plain(names[i]) + (" (most complete)" if i == best else ""),
        key=f"primary-{group_id}-{'|'.join(chosen)}",
    )
    secondaries = [i for i in chosen if i != primary]
    if st.button("Preview merge", icon=":material/preview:"):
        try:
            st.session_state.merge_preview = preview_merge(con, primary, secondaries)
        except ContactsError as error:
            show_error(error)
    preview: MergePreview | None = st.session_state.get("merge_preview")
    if preview is None or (preview.primary_id, preview.secondary_ids) != (primary, secondaries):
        return
    merged = preview_table(preview, names, owners)
    st.dataframe(merged, hide_index=True, column_config=COLUMNS, height=full_height(len(merged.data)))
    st.text(f"Tags after the merge: {', '.join(preview.tags) or 'none'}")
    st.caption(f"Created on: {preview.created_on:%Y-%m-%d %H:%M} (the earliest). {moves_sentence(preview.moves)}")
    if st.button("Merge", type="primary", icon=":material/merge:"):
        confirm_merge(preview, names)


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


def merge_box(
    con: duckdb.DuckDBPyConnection, key: str, contacts: dict[str, Contact], owner_names: dict[str, str], admin: bool
) -> None:
    """The merge controls in their box, or why this user has none."""
    with st.container(border=True):
        st.markdown("**Merge**")
        if admin:
            merge_controls(con, key, contacts, owner_names)
        else:
            st.info("Only admins can merge contacts.", icon=":material/lock:")


def chosen_merge(con: duckdb.DuckDBPyConnection, ids: list[str], admin: bool) -> None:
    """Contacts chosen in the Contacts list (the guide's "merge from the list"): side by side, then merge."""
    st.page_link("pages/contacts.py", label="Back to contacts", icon=":material/arrow_back:")
    wanted = list(dict.fromkeys(ids))[: 4 * MAX_MERGE]  # a list page holds 50 rows; a longer URL is cut, not read
    contacts = contacts_by_id(con, wanted)
    if len(contacts) < len(wanted):
        gone = len(wanted) - len(contacts)
        st.warning(f"{gone} of the chosen contacts no longer exist{'s' * (gone == 1)}: merged or deleted meanwhile.")
    if len(contacts) < 2:
        st.info("Choose at least 2 contacts in the Contacts list to merge them.")
        return
    st.subheader(f"Merge {len(contacts)} chosen contacts")
    owner_names = review_contacts(con, contacts)
    merge_box(con, "chosen", contacts, owner_names, admin)


def identity_fields_controls(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """Which custom fields identify a person; detection uses them from its next run."""
    eligible = {field.key: field for field in custom_fields(con) if field.type in IDENTITY_FIELD_TYPES}
    if not eligible:
        st.caption("There are no text or number custom fields: an ID or membership number would identify a contact.")
        return
    chosen = st.multiselect(
        "Custom fields that identify a contact",
        list(eligible),
        default=[key for key, field in eligible.items() if field.is_identity],
        format_func=lambda key: eligible[key].label,
        key="identity-fields",
        help="Contacts sharing such a value (an ID or membership number) are likely one person, even with "
        "another name; contacts with different values are likely not.",
    )
    if st.button("Save identity fields", icon=":material/save:"):
        try:
            set_identity_fields(con, chosen, actor)
        except ContactsError as error:
            show_error(error)
            return
        st.success("Saved. Find duplicates again to use them.", icon=":material/check_circle:")


def not_duplicates_controls(
    con: duckdb.DuckDBPyConnection, group_id: str, names: dict[str, str], min_score: float, actor: str
) -> None:
    """Record that some members are different people: their pairs are not proposed again."""
    different = st.multiselect(
        "Contacts that are different people", list(names), format_func=names.get, key=f"different-{group_id}"
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


def bulk_merge_controls(con: duckdb.DuckDBPyConnection, min_score: float, kind: str | None, view: tuple) -> None:
    """Every group of the list merged at once, each into the primary a rule picks, after a confirmation."""
    rule = st.selectbox("Primary of each group", list(PRIMARY_RULES), format_func=PRIMARY_RULES.get)
    wanted = (*view, rule)
    if st.session_state.get("bulk_plan_for") != wanted:  # planning groups every contact: once per view
        plan = plan_bulk_merge(con, min_score, kind, rule)  # type: ignore[arg-type]
        st.session_state.update(bulk_plan=plan, bulk_plan_for=wanted)
    plan = st.session_state.bulk_plan
    st.write(
        f"{plan.groups:,} groups, {plan.contacts:,} contacts will be merged into {plan.groups:,} primaries "
        f"(the groups listed above); {plan.too_large:,} groups larger than {MAX_MERGE} are left for review."
    )
    if st.button(f"Merge {plan.groups:,} groups", type="primary", disabled=not plan.groups):
        confirm_bulk_merge(plan)
