"""Contacts list: one segment at a time, filtered, searched, sorted and paginated on the server; bulk actions.

The URL holds the whole view (segment, search, filter, sort and page), so a reload or a shared link opens it again.
"""

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.contacts.fields import SORTABLE_KEYS, SYSTEM_FIELD_BY_KEY
from core.duplicates.merge import MAX_MERGE
from core.errors import ContactsError
from core.views.bulk import Selection
from core.views.filters import Filter, describe_filter, filter_from_url, filter_to_url
from core.views.queries import ListView
from ui.bulk_actions import ROUND_KEY, bulk_actions, show_last_action
from ui.cache import all_segments, column_choices, filter_fields, list_page, owner_names
from ui.export import export_control
from ui.filter_builder import clear_filter, filter_builder, load_filter, save_as_segment
from ui.login import require_session
from ui.session import db, is_admin, user
from ui.shell import lock_waits_told, require_shell
from ui.table_columns import column_picker
from ui.widgets import for_display, int_param, show_error, url_index

require_shell()

# Cached (ui/cache.py): segments, column choices, filter fields and owner names, until the next workspace write
# (fields, stages, users, settings, segments, table columns, an import); tag names (filter, bulk actions) until the
# next write of any kind, and so is each page of contacts shown (for a minute at most: "within the last N days"
# moves with the clock). Read on every run of the list fragment: the user's session and role, the jobs.

ROW_HEIGHT = 35  # Streamlit's default row height: the table shows the whole page without scrolling
FILTER = "list_filter"
LOADED = "list_filter_url"  # the URL filter the builder last showed: another one means a link or a reload
UNSORTABLE = "list_unsortable"  # the notice after a click on a header the view cannot sort by
FILTER_CHANGED = "list_filter_changed"  # set by a page run whose filter differs from the URL's: back to page 1

con, me = db(), user()
params = st.query_params
segments = {segment.key: segment for segment in all_segments(con)}
segment_keys = list(segments)
sort_keys = sorted(SORTABLE_KEYS, key=lambda key: SYSTEM_FIELD_BY_KEY[key].label)
choices = column_choices(con)

st.title("Contacts")

# --- The view: segment, search and sort, as the URL gives them ---
bar = st.columns([2, 4, 2, 1.4, 1.6], vertical_alignment="bottom")
segment = bar[0].selectbox(
    "Segment",
    segment_keys,
    index=url_index(segment_keys, params.get("segment", "all")),
    format_func=lambda key: segments[key].name,
)
sort = bar[2].selectbox(
    "Sort by",
    sort_keys,
    index=url_index(sort_keys, params.get("sort", "last_updated")),
    format_func=lambda key: SYSTEM_FIELD_BY_KEY[key].label,
    key=f"sort-{params.get('sort', 'last_updated')}",  # follows the URL when a header click sorts
)
descending = bar[3].toggle(
    "Descending", value=params.get("dir", "desc") == "desc", key=f"dir-{params.get('dir', 'desc')}"
)
with bar[4]:
    columns = column_picker(con, me)

# --- The advanced filter, inside the segment; it comes from the URL and can be saved as a segment ---
url_filter = params.get("filter", "")
just_loaded = url_filter != st.session_state.get(LOADED)
if just_loaded:
    load_filter(con, FILTER, filter_from_url(url_filter))
drafted = bool(st.session_state.get(FILTER, {}).get("items"))
with st.expander("Filter", icon=":material/filter_list:", expanded=drafted):
    active = filter_builder(con, FILTER)
    saved = save_as_segment(con, active, me, FILTER)
if saved:
    clear_filter(FILTER)
    st.query_params.from_dict({"segment": saved, "page": "1"})
    st.rerun()
active_url = "" if active.is_empty() else filter_to_url(active)
st.session_state[FILTER_CHANGED] = not just_loaded and active_url != url_filter  # the list starts at page 1
st.session_state[LOADED] = active_url  # a link's filter as the builder reads it (the view shows that one)


# --- The list: search box, table, pager and actions; typing a search or paging reruns only this part ---
def turn_page(page: int) -> None:
    st.query_params["page"] = str(page)


@st.fragment
def contact_list(search_cell: DeltaGenerator, segment: str, active: Filter, active_url: str) -> None:
    """The view's page of contacts: the search box (in the bar above), the table, the pager and the actions."""
    with lock_waits_told("contact_list"):
        _contact_list(search_cell, segment, active, active_url)


def _contact_list(search_cell: DeltaGenerator, segment: str, active: Filter, active_url: str) -> None:
    con, me = db(), user()
    require_session(con)  # a rerun of this part alone skips app.py's sign-in check
    params = st.query_params
    search = search_cell.text_input(
        "Search",
        value=params.get("q", ""),
        placeholder="Name, email, phone or custom field",
        icon=":material/search:",
    )
    restart = st.session_state.pop(FILTER_CHANGED, False) or (segment, search) != (
        params.get("segment", "all"),
        params.get("q", ""),
    )
    view = ListView(
        segment=segment,
        filter=None if active.is_empty() else active,
        search=search,
        sort=sort,
        descending=descending,
        page=1 if restart else int_param("page", 1),
        columns=columns,
    )
    try:
        result = list_page(con, view, me)
    except ContactsError as error:
        show_error(error)
        st.stop()
    address = {
        "segment": segment,
        "q": search,
        "filter": active_url,
        "sort": sort,
        "dir": "desc" if descending else "asc",
    }
    st.query_params.from_dict({name: value for name, value in address.items() if value} | {"page": str(result.page)})

    # The table: one page of rows, each row linking to its contact; a header click sorts the whole view
    show_last_action()
    if UNSORTABLE in st.session_state:
        st.toast(st.session_state.pop(UNSORTABLE), icon=":material/info:")
    if view.filter is not None:
        st.caption(f"Filter: {describe_filter(view.filter, filter_fields(con))}")
    if result.total == 0:
        st.info("No contacts match this view. Change the search or the filter, or pick another segment.")
        st.stop()
    names = owner_names(con)
    rows = for_display(result.rows)
    if "owner_id" in rows.columns:
        rows = rows.with_columns(rows["owner_id"].replace(names))
    table = rows.select(view.columns).with_columns(link=("contact?id=" + rows["contact_id"]))
    arrow = " ↓" if descending else " ↑"
    config = {
        key: st.column_config.Column(choices.get(key, key) + (arrow if key == sort else "")) for key in view.columns
    }
    config["link"] = st.column_config.LinkColumn("Open", display_text="Open", width="small")
    order = "newest first" if descending else "oldest first"
    if SYSTEM_FIELD_BY_KEY[sort].type not in ("date", "datetime"):
        order = "Z to A" if descending else "A to Z"
    st.caption(
        f"{'about ' if result.estimated else ''}{result.total:,} contact{'' if result.total == 1 else 's'}"
        f" · page {result.page:,} of {'about ' if result.estimated else ''}{result.page_count:,}"
        f" · sorted by {SYSTEM_FIELD_BY_KEY[sort].label}, {order} (click a column's header to sort by it)"
    )
    event = st.dataframe(
        table,
        hide_index=True,
        column_config=config,
        on_select="rerun",
        selection_mode=["multi-row", "single-column"],  # a column selection turns the browser's own sorting off
        key=f"table-{hash(frozenset(address.items()))}-{result.page}-{st.session_state.get(ROUND_KEY, 0)}",
        width="stretch",
        height=ROW_HEIGHT * (len(table) + 1) + 3,
    )
    header = event.selection.columns[0] if event.selection.columns else None
    if header is not None:  # a header click selects its column: sort by it, and start the table afresh
        st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
        if header in SORTABLE_KEYS:
            flip = header == sort  # a second click on the sorted column turns the order round
            st.query_params.update(sort=header, dir=("asc" if descending else "desc") if flip else "asc", page="1")
        elif header != "link":
            st.session_state[UNSORTABLE] = f"The table cannot be sorted by {choices.get(header, header)}."
        st.rerun()  # the whole page: the sort box above follows the URL
    selected = [rows["contact_id"][index] for index in event.selection.rows]

    pager = st.columns([1, 1, 5, 1])  # a click turns the page in the URL before its run: one run per click
    pager[0].button(
        "Previous",
        icon=":material/chevron_left:",
        disabled=result.page <= 1,
        on_click=turn_page,
        args=(result.page - 1,),
    )
    pager[1].button(
        "Next",
        icon=":material/chevron_right:",
        disabled=result.page >= result.page_count,
        on_click=turn_page,
        args=(result.page + 1,),
    )
    with pager[3]:
        export_control(con, view, me, result.total)

    # Actions: on the selected rows, or with none selected on every contact in the view
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
        bulk_actions(con, selection, len(selected) if selected else result.total, me, not selected and result.estimated)


contact_list(bar[1], segment, active, active_url)
