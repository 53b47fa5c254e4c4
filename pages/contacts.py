"""Contacts list: one segment at a time, filtered, searched, sorted and paginated on the server; bulk actions."""

import streamlit as st

from core.contacts.fields import SORTABLE_KEYS, SYSTEM_FIELD_BY_KEY
from core.duplicates.merge import MAX_MERGE
from core.errors import ContactsError
from core.views.bulk import Selection
from core.views.filters import describe_filter, filter_fields
from core.views.queries import ListView, list_contacts
from core.views.segments import all_segments
from core.workspace import column_choices, set_table_columns, table_columns
from ui.bulk_actions import ROUND_KEY, bulk_actions, show_last_action
from ui.export import export_control
from ui.filter_builder import clear_filter, filter_builder, save_as_segment
from ui.session import db, is_admin, user
from ui.shell import require_shell
from ui.widgets import for_display, int_param, show_error, url_index

require_shell()

ROW_HEIGHT = 35  # Streamlit's default row height: the table shows the whole page without scrolling

con, me = db(), user()
params = st.query_params
segments = {segment.key: segment for segment in all_segments(con)}
segment_keys = list(segments)
sort_keys = sorted(SORTABLE_KEYS, key=lambda key: SYSTEM_FIELD_BY_KEY[key].label)
choices = column_choices(con)
columns = table_columns(con, me)

st.title("Contacts")

# --- The view: segment, search and sort, mirrored in the URL so a view can be shared ---
bar = st.columns([2, 4, 2, 1.4, 1.6], vertical_alignment="bottom")
wanted_segment = params.get("segment", "all")
segment = bar[0].selectbox(
    "Segment",
    segment_keys,
    index=url_index(segment_keys, wanted_segment),
    format_func=lambda key: segments[key].name,
)
search = bar[1].text_input(
    "Search",
    value=params.get("q", ""),
    placeholder="Name, email, phone or custom field",
    icon=":material/search:",
)
wanted_sort = params.get("sort", "last_updated")
sort = bar[2].selectbox(
    "Sort by",
    sort_keys,
    index=url_index(sort_keys, wanted_sort),
    format_func=lambda key: SYSTEM_FIELD_BY_KEY[key].label,
)
descending = bar[3].toggle("Descending", value=params.get("dir", "desc") == "desc")

with bar[4].popover("Customise table", icon=":material/view_column:", width="stretch"):
    shown = st.multiselect(
        "Fields visible in table (in this order)",
        list(choices),
        default=columns,
        format_func=lambda key: choices[key],
    )
    if shown and shown != columns:
        set_table_columns(con, me, shown)
        columns = shown

# --- The advanced filter, inside the segment; it can be saved as a segment of its own ---
drafted = bool(st.session_state.get("list_filter", {}).get("items"))
with st.expander("Filter", icon=":material/filter_list:", expanded=drafted):
    active = filter_builder(con, "list_filter")
    saved = save_as_segment(con, active, me, "list_filter")
if saved:
    clear_filter("list_filter")
    st.query_params.update(segment=saved, page="1")
    st.rerun()

filter_changed = active.model_dump_json() != st.session_state.get("list_filter_applied")
st.session_state["list_filter_applied"] = active.model_dump_json()
view_changed = (segment, search) != (wanted_segment, params.get("q", "")) or filter_changed
page_number = 1 if view_changed else int_param("page", 1)
view = ListView(
    segment=segment,
    filter=None if active.is_empty() else active,
    search=search,
    sort=sort,
    descending=descending,
    page=page_number,
    columns=columns,
)
try:
    result = list_contacts(con, view, me)
except ContactsError as error:
    show_error(error)
    st.stop()
st.query_params.from_dict(
    {"segment": segment, "q": search, "sort": sort, "dir": "desc" if descending else "asc", "page": str(result.page)}
)

# --- The table: one page of rows, each row linking to its contact ---
rows = for_display(result.rows)
table = rows.select(view.columns).with_columns(link=("contact?id=" + rows["contact_id"]))
config = {key: st.column_config.Column(choices.get(key, key)) for key in view.columns}
config["link"] = st.column_config.LinkColumn("Open", display_text="Open", width="small")
show_last_action()
if view.filter is not None:
    st.caption(f"Filter: {describe_filter(view.filter, filter_fields(con))}")
st.caption(
    f"{result.total:,} contact{'' if result.total == 1 else 's'} · page {result.page:,} of {result.page_count:,}"
)
event = st.dataframe(
    table,
    hide_index=True,
    column_config=config,
    on_select="rerun",
    selection_mode="multi-row",
    key=f"table-{segment}-{search}-{hash(active.model_dump_json())}-{result.page}-{st.session_state.get(ROUND_KEY, 0)}",
    width="stretch",
    height=ROW_HEIGHT * (len(table) + 1) + 3,
)
selected = [rows["contact_id"][index] for index in event.selection.rows]

pager = st.columns([1, 1, 5, 1])
if pager[0].button("Previous", icon=":material/chevron_left:", disabled=result.page <= 1):
    st.query_params["page"] = str(result.page - 1)
    st.rerun()
if pager[1].button("Next", icon=":material/chevron_right:", disabled=result.page >= result.page_count):
    st.query_params["page"] = str(result.page + 1)
    st.rerun()
with pager[3]:
    export_control(con, view, me, result.total)

# --- Actions: on the selected rows, or with none selected on every contact in the view ---
if len(selected) == 1 and st.button("Open contact", type="primary", icon=":material/person:"):
    st.switch_page("pages/contact.py", query_params={"id": selected[0]})
admin = is_admin(con)
if len(selected) >= 2 and admin:
    too_many = len(selected) > MAX_MERGE
    if st.button(
        f"Merge {len(selected)} contacts",
        icon=":material/merge:",
        disabled=too_many,
        help=f"At most {MAX_MERGE} contacts merge at one time." if too_many else "Review them side by side first.",
    ):
        st.switch_page("pages/duplicates.py", query_params={"merge": ",".join(selected)})
if admin:
    selection = Selection(ids=selected) if selected else Selection(view=view)
    bulk_actions(con, selection, len(selected) if selected else result.total, me)
