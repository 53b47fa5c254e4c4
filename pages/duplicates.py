"""Duplicates: groups of contacts that are one person, with their evidence; review side by side, merge."""

import streamlit as st

from core.duplicates import DEFAULT_MIN_SCORE, group_of, group_summaries, last_run
from core.views.queries import ListView, count_view
from ui.duplicates.bulk_merge import bulk_merge_controls, merged_primaries
from ui.duplicates.cache import cached_groups
from ui.duplicates.display import full_height, label
from ui.duplicates.finding import detection_in_progress, look_for_duplicates
from ui.duplicates.identity import identity_fields_controls
from ui.duplicates.merge import chosen_merge, merge_box
from ui.duplicates.notices import ROUND_KEY, rule_counts, run_line, show_flash
from ui.duplicates.review import (
    GROUP_LIST_COLUMNS,
    KINDS,
    SORTS,
    contacts_by_id,
    evidence_table,
    group_rows,
    not_duplicates_controls,
    reasons_table,
    review_contacts,
)
from ui.session import db, is_admin, plain, user
from ui.shell import require_shell

require_shell()

# Cached (ui/duplicates/cache.py): the groups per run, threshold and kind, and contact names; cleared by a merge,
# a "not duplicates" mark, or a new detection run (a new run ID).
RUN_AUTOMATICALLY_UP_TO = 200_000  # contacts: a first visit looks for duplicates itself up to this size
PAGE_SIZE = 20
SCORE_COLUMN = {"Score": st.column_config.NumberColumn(format="percent", width="small")}

con, me = db(), user()
admin, params = is_admin(con), st.query_params
st.title("Duplicates")
show_flash()
merged_primaries(con)
if chosen := [contact_id for contact_id in params.get("merge", "").split(",") if contact_id]:
    chosen_merge(con, chosen, admin)  # contacts chosen in the Contacts list, not a group
    st.stop()

# --- When duplicates were last looked for; a first visit to a small database looks for them at once ---
# Detection over 10,000 contacts or more runs as a background job (ui/duplicates/finding.py): its progress shows
# here, to everyone, and survives a reload; the page shows the last finished run meanwhile.
run = last_run(con)
finding = detection_in_progress()
if run is None and not finding and admin and (size := count_view(con, ListView(), me)) <= RUN_AUTOMATICALLY_UP_TO:
    with st.spinner("Looking for duplicates…"):
        if look_for_duplicates(con, me, size):
            run = last_run(con)
        else:
            st.rerun()
unseen = params.get("contact")  # a details page found duplicates that the last run did not
head = st.columns([5, 1], vertical_alignment="center")
head[0].caption(run_line(run) if run else "Duplicates were never looked for in this database.")
if head[1].button(
    "Find duplicates", icon=":material/search:", type="primary" if unseen else "secondary", disabled=finding
):
    with st.spinner("Looking for duplicates…"):
        done_now = look_for_duplicates(con, me, count_view(con, ListView(), me))
    found = group_of(con, unseen) if unseen and done_now else None
    if found is not None and not found.is_empty():
        params["group"] = found["group_id"][0]
    params.pop("contact", None)
    st.rerun()
if unseen:
    st.info("Contacts share an email or phone that the last run did not group: find duplicates again.")
if admin:
    with st.expander("Identity fields", icon=":material/badge:"):
        identity_fields_controls(con, me)
if run is None:
    st.stop()
if run.rules:
    with st.expander("Candidate pairs per blocking rule", icon=":material/filter_alt:"):
        st.caption("A rule skips keys held by too many contacts, and past its pair budget its largest blocks.")
        st.table(rule_counts(run))

# --- Which groups: kind, minimum score of likely pairs, order ---
bar = st.columns([2, 3, 2], vertical_alignment="bottom")
kind = KINDS[bar[0].segmented_control("Kind", list(KINDS), default="All", required=True, key="dup-kind")]
min_score = bar[1].slider(
    "Minimum score",
    0.5,
    1.0,
    DEFAULT_MIN_SCORE,
    0.01,
    key="dup-score",
    help="Of likely pairs; exact pairs always count.",
)
sort = bar[2].selectbox("Sort by", list(SORTS), key="dup-sort")
members = cached_groups(con, run, min_score, kind)
by, descending = SORTS[sort]
summaries = group_summaries(members).sort(by, descending=descending)
metrics = st.columns(3)
metrics[0].metric("Groups", f"{summaries.height:,}")
metrics[1].metric("Contacts in groups", f"{members.height:,}")
metrics[2].metric("Contacts that would go", f"{members.height - summaries.height:,}", help="Merging every group.")

# --- The groups, a page at a time; selecting one opens it and puts it in the URL ---
view = (kind, min_score, sort, run.run_id, st.session_state.get(ROUND_KEY, 0))
if st.session_state.get("dup_view") != view:
    st.session_state.update(dup_view=view, dup_page=1, dup_selected=None)
page_count = max(1, -(-summaries.height // PAGE_SIZE))
page = min(st.session_state.dup_page, page_count)
shown = summaries.slice((page - 1) * PAGE_SIZE, PAGE_SIZE)
event = st.dataframe(
    group_rows(con, shown),
    height=full_height(shown.height),
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key=f"groups-{hash(view)}-{page}",
    column_config=GROUP_LIST_COLUMNS,
)
if event.selection.rows:
    chosen = shown["group_id"][event.selection.rows[0]]
    if chosen != st.session_state.dup_selected:
        st.session_state.dup_selected = params["group"] = chosen
pager = st.columns([1, 1, 6], vertical_alignment="center")
if pager[0].button("Previous", icon=":material/chevron_left:", disabled=page <= 1):
    st.session_state.dup_page = page - 1
    st.rerun()
if pager[1].button("Next", icon=":material/chevron_right:", disabled=page >= page_count):
    st.session_state.dup_page = page + 1
    st.rerun()
pager[2].caption(f"{summaries.height:,} group{'' if summaries.height == 1 else 's'} · page {page:,} of {page_count:,}")

if admin:
    many = st.expander("Merge many groups at once", icon=":material/merge:", key="merge-many", on_change="rerun")
    with many:
        if many.open:
            bulk_merge_controls(con, min_score, kind, view)

# --- One group: its contacts side by side, the evidence, merge and "not duplicates" ---
group_id = params.get("group")
if not group_id:
    st.caption("Select a group to review it.")
    st.stop()
group = group_of(con, group_id, min_score)
st.divider()
if group.is_empty():
    st.info(f"Contact {plain(group_id)} is in no group at this minimum score: merged, deleted or marked different.")
    st.stop()
contacts = contacts_by_id(con, group["contact_id"])
ids, names = list(contacts), {i: label(c) for i, c in contacts.items()}
st.subheader(f"Group {plain(group['group_id'][0])}: {len(ids)} contacts")
owner_names = review_contacts(con, contacts)
st.markdown("**Why each contact is here**: its strongest link inside the group")
st.dataframe(reasons_table(group, names), hide_index=True, column_config=SCORE_COLUMN)
st.markdown("**Every pair inside the group**")
st.dataframe(
    evidence_table(con, ids, names, min_score),
    hide_index=True,
    column_config=SCORE_COLUMN,
)
merge_box(con, group_id, contacts, owner_names, admin)
with st.container(border=True):
    st.markdown("**Not duplicates**")
    not_duplicates_controls(con, group_id, names, min_score, me)
