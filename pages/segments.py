"""Segments: every system and saved segment with its count and description; composition; edit, rename, delete."""

import streamlit as st

from core.errors import ContactsError
from core.views.filters import filter_json
from core.views.segments import (
    COMPOSITION_FIELDS,
    CompositionField,
    delete_segment,
    find_segment,
    rename_segment,
    segment_composition,
    update_segment_filter,
)
from ui.cache import segment_summaries
from ui.filter_builder import filter_builder, load_filter
from ui.session import db, plain, user
from ui.shell import require_shell
from ui.widgets import show_error

require_shell()

# Cached (ui/cache.py): the segments with their counts, until the next write of any kind (a contact edit moves counts).

con, me = db(), user()

st.title("Segments")
st.caption("Saved segments are filters: they re-evaluate as contacts change. Save a new one from the Contacts list.")

# --- Every segment, with how many contacts it holds right now ---
summaries = segment_summaries(con, me)
table = summaries.with_columns(link=("contacts?segment=" + summaries["key"]))
st.dataframe(
    table.select("name", "kind", "contacts", "description", "link"),
    hide_index=True,
    width="stretch",
    column_config={
        "name": st.column_config.TextColumn("Segment"),
        "kind": st.column_config.TextColumn("Kind", width="small"),
        "contacts": st.column_config.NumberColumn("Contacts", format="localized", width="small"),
        "description": st.column_config.TextColumn("Description", width="large"),
        "link": st.column_config.LinkColumn("Open", display_text="Open", width="small"),
    },
)

# --- One segment: its composition as a chart ---
keys = summaries["key"].to_list()
names = dict(zip(keys, summaries["name"].to_list(), strict=True))
wanted = st.query_params.get("segment")
chosen: str = st.selectbox(
    "Segment",
    keys,
    index=keys.index(wanted) if wanted in keys else 0,
    format_func=names.__getitem__,
    key="segment-pick",
)
segment = find_segment(con, chosen)
st.query_params["segment"] = chosen
st.write(f"**{plain(segment.name)}** · {plain(segment.description)}")

by: CompositionField = (
    st.segmented_control(
        "Break down by",
        list(COMPOSITION_FIELDS),
        default="lead_stage",
        format_func=COMPOSITION_FIELDS.__getitem__,
        key="segment-by",
    )
    or "lead_stage"
)
try:
    composition = segment_composition(con, chosen, me, by)
except ContactsError as error:
    show_error(error)
    st.stop()
if composition.is_empty():
    st.info("This segment holds no contacts right now.", icon=":material/info:")
else:
    st.bar_chart(
        composition,
        x="value",
        y="contacts",
        x_label=COMPOSITION_FIELDS[by],
        y_label="Contacts",
        horizontal=True,
        sort="-contacts",
    )
if st.button("Open in Contacts", icon=":material/group:"):
    st.switch_page("pages/contacts.py", query_params={"segment": chosen})

# --- A saved segment's conditions can be edited, and it can be renamed or deleted (its contacts stay) ---
if not segment.system and segment.filter is not None:
    st.subheader("Manage")
    draft = f"segment-edit-{segment.segment_id}"
    if st.session_state.get(f"{draft}-loaded") != filter_json(segment.filter):
        load_filter(con, draft, segment.filter)
        st.session_state[f"{draft}-loaded"] = filter_json(segment.filter)
    with st.expander("Edit conditions", icon=":material/tune:"):
        edited = filter_builder(con, draft)
        unchanged = filter_json(edited) == filter_json(segment.filter)
        if st.button("Save conditions", icon=":material/save:", disabled=edited.is_empty() or unchanged):
            try:
                update_segment_filter(con, chosen, edited, user())
                st.toast(f"Saved the conditions of {segment.name}.", icon=":material/check_circle:")
                st.rerun()
            except ContactsError as error:
                show_error(error)
    cells = st.columns([3, 1, 1], vertical_alignment="bottom")
    new_name = cells[0].text_input("New name", value=segment.name, key=f"rename-{chosen}")
    if cells[1].button("Rename", icon=":material/edit:", disabled=new_name.strip() == segment.name):
        try:
            rename_segment(con, chosen, new_name, user())
            st.rerun()
        except ContactsError as error:
            show_error(error)
    with cells[2].popover("Delete segment", icon=":material/delete:", width="stretch"):
        st.write(f"Delete the segment **{plain(segment.name)}**? Its contacts are kept.")
        if st.button("Yes, delete the segment", type="primary"):
            delete_segment(con, chosen, user())
            st.query_params.pop("segment", None)
            st.rerun()
