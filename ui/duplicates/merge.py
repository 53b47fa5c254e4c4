"""One merge: a group's contacts or contacts chosen in the list, side by side, previewed, merged once confirmed."""

import duckdb
import streamlit as st

from core.contacts.models import Contact
from core.duplicates.bulk import most_complete
from core.duplicates.merge import merge_contacts
from core.duplicates.merge_plan import MAX_MERGE, MergePreview, preview_merge
from core.errors import ContactsError
from ui.dialogs import confirm
from ui.duplicates.cache import forget_groups
from ui.duplicates.display import COLUMNS, full_height, label, moves_sentence, preview_table
from ui.duplicates.notices import flash
from ui.duplicates.review import contacts_by_id, review_contacts
from ui.session import db, plain, user
from ui.widgets import show_error

MERGE_ICON = ":material/merge:"


def ask_to_merge(preview: MergePreview, names: dict[str, str]) -> None:
    """Say what the merge does, irreversibly, and merge on "Yes, merge"."""
    count = len(preview.secondary_ids) + 1
    others = (
        f"The other {count - 1} contacts are deleted after their"
        if count > 2
        else f"{plain(names[preview.secondary_ids[0]])} is deleted after its"
    )

    def merge() -> None:
        merged = merge_contacts(db(), preview.primary_id, preview.secondary_ids, user(), preview.versions)
        forget_groups()
        st.query_params.pop("group", None)
        st.query_params.pop("merge", None)
        flash(f"Merged {count} contacts into {plain(label(merged))}.", merged.contact_id)

    message = (
        f"Merge {count} contacts into **{plain(names[preview.primary_id])}**? {others} conversations, tickets, "
        "notes, media and activity move to the primary. This cannot be undone."
    )
    kept = [*preview.additional_emails, *preview.additional_phones]
    if kept:
        message += f" The primary keeps every other email and phone as additional ones: {plain(', '.join(kept))}."
    confirm("Merge duplicates", message, "Yes, merge", merge, icon=MERGE_ICON)


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
        format_func=names.__getitem__,
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
    st.text(f"Additional emails kept: {', '.join(preview.additional_emails) or 'none'}")
    st.text(f"Additional phones kept: {', '.join(preview.additional_phones) or 'none'}")
    st.caption(f"Created on: {preview.created_on:%Y-%m-%d %H:%M} (the earliest). {moves_sentence(preview.moves)}")
    if st.button("Merge", type="primary", icon=MERGE_ICON):
        ask_to_merge(preview, names)


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
