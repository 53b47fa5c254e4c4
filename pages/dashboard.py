"""Dashboard: the contacts at a glance; a click on any bar opens the list filtered to what it counts."""

from datetime import date

import streamlit as st

from core import dashboard
from core.importer import import_history
from ui.dashboard import (
    DEFAULT_BY,
    DEFAULT_GRAIN,
    SLOW_SECONDS,
    bar_chart,
    behind,
    clickable_chart,
    default_span,
    figures,
    over_time,
)
from ui.session import db
from ui.shell import require_shell

require_shell()

# Cached (ui/dashboard.py): every figure and chart, keyed on the contacts stamp (core/stamps.py), so any write
# (contacts, fields, stages, owners, imports, ingests, duplicates) clears them; the filter fields (ui/cache.py)
# until a workspace write; the import history is one small query on every run.
LIST_PARAMS = ("segment", "q", "filter", "sort", "dir", "page")
if any(name in st.query_params for name in LIST_PARAMS):  # a link from before the dashboard was the home page
    st.switch_page("pages/contacts.py", query_params=st.query_params.to_dict())

con = db()
# Shown only while figures are computed on the spot (the first view of a database with no stored snapshot, or a
# small workspace's after a write); a large database takes seconds (10,000,000 contacts on PostgreSQL: about 30 s),
# and then its figures are kept in the database: any app process's first view shows them at once.
with st.spinner("Counting the contacts...", show_time=True):
    shot = figures(con)
found = shot.value
kpis: dashboard.Kpis = found["kpis"]

st.title("Dashboard")
st.caption("Every chart counts the contacts that are not blocked. Click a bar to open those contacts.")
# Slow figures (a large database) are computed again in the background after a write: say how old these are.
# A snapshot kept in the database may be from an earlier day: then its date is said too.
as_of = f"{shot.computed_at:{'%H:%M:%S' if shot.computed_at.date() == date.today() else '%Y-%m-%d %H:%M'}}"
if behind(shot, con):
    note, refresh = st.columns([4, 1], vertical_alignment="center")
    note.caption(
        f":material/update: Figures as of {as_of} (they took {shot.seconds:.0f} s); the data has "
        "changed since, and newer figures are being computed."
    )
    refresh.button("Show the newest", icon=":material/refresh:", key="dash-refresh")
elif shot.seconds >= SLOW_SECONDS:
    st.caption(f"Figures as of {as_of} (computed in {shot.seconds:.0f} s).")

# --- The headline numbers ---
cells = st.columns(5)
cells[0].metric("Contacts", f"{kpis.total:,}")
cells[1].metric(
    "New this week",
    f"{kpis.new_this_week:,}",
    delta=f"{kpis.new_this_week - kpis.new_last_week:+,} on last week ({kpis.new_last_week:,})",
)
cells[2].metric("Reachable by email", f"{kpis.email_share:.0%}", help=f"{kpis.with_email:,} contacts have an email")
cells[3].metric("Reachable by phone", f"{kpis.phone_share:.0%}", help=f"{kpis.with_phone:,} contacts have a phone")
cells[4].metric("Blocked", f"{kpis.blocked:,}")
if cells[4].button("Open blocked", icon=":material/block:", key="open-blocked", disabled=not kpis.blocked):
    st.switch_page("pages/contacts.py", query_params={"segment": "blocked"})

if kpis.total == 0:
    st.info("No contacts yet: import some or wait for the channels to bring them.", icon=":material/info:")
    st.stop()

# --- Contacts over time ---
st.subheader("Contacts over time")
first, last = found["range"]
controls = st.columns([1.2, 1, 2], vertical_alignment="bottom")
grain: dashboard.Grain = (
    controls[0].segmented_control(
        "Per", dashboard.GRAINS, default=DEFAULT_GRAIN, key="dash-grain", format_func=str.title
    )
    or DEFAULT_GRAIN
)
by: dashboard.Breakdown = (
    controls[1].segmented_control(
        "Split by",
        list(dashboard.BREAKDOWNS),
        default=DEFAULT_BY,
        key="dash-by",
        format_func=dashboard.BREAKDOWNS.__getitem__,
    )
    or DEFAULT_BY
)
picked = controls[2].date_input(
    "Created between",
    value=default_span(first, last),
    min_value=first,
    max_value=last,
    key="dash-range",
)
start, end = (picked[0], picked[-1]) if isinstance(picked, tuple) and picked else (first, last)
timeline = over_time(con, start, end, grain, by, shot)
figure = bar_chart(timeline, "period", "contacts", color="value", category_x=True, labels={"period": "", "value": ""})
clickable_chart(figure, "chart-over-time")

# --- Pipeline, owners and countries ---
left, right = st.columns(2)
with left:
    st.subheader("Lead stages")
    clickable_chart(bar_chart(found["stages"], "contacts", "stage", orientation="h", reverse_y=True), "chart-stages")
    st.subheader("By owner")
    clickable_chart(bar_chart(found["owners"], "owner", "contacts"), "chart-owners")
with right:
    st.subheader("By country")
    clickable_chart(
        bar_chart(found["countries"], "contacts", "country", orientation="h", reverse_y=True), "chart-countries"
    )
    st.caption("The country field, else the country of the phone's calling code.")

# --- Subscriptions, tags and completeness ---
left, right = st.columns(2)
with left:
    st.subheader("Subscriptions")
    clickable_chart(bar_chart(found["subscriptions"], "channel", "contacts", color="status"), "chart-subscriptions")
    st.subheader("Field completeness")
    completeness = found["completeness"]
    chart = bar_chart(
        completeness,
        "share",
        "label",
        orientation="h",
        reverse_y=True,
        percent_x=True,
        range_x=[0, 1],
        labels={"share": "", "label": ""},
    )
    clickable_chart(chart, "chart-completeness")
with right:
    st.subheader("Top tags")
    clickable_chart(bar_chart(found["tags"], "contacts", "tag", orientation="h", reverse_y=True), "chart-tags")

# --- Duplicates and recent activity ---
left, right = st.columns(2)
with left:
    st.subheader("Duplicates")
    rate: dashboard.DuplicateRate | None = found["duplicates"]
    if rate is None:
        st.info("Duplicates were never looked for.", icon=":material/info:")
    else:
        numbers = st.columns(3)
        numbers[0].metric("In a group", f"{rate.rate:.1%}", help=f"of {rate.contacts:,} contacts")
        numbers[1].metric("Exact / likely", f"{rate.in_exact_groups:,} / {rate.in_likely_groups:,}")
        numbers[2].metric("A merge would remove", f"{rate.removable:,}", help=f"{rate.groups:,} groups")
        st.caption(f"Last detection run {rate.run_at:%Y-%m-%d %H:%M} UTC.")
    st.page_link("pages/duplicates.py", label="Review duplicates", icon=":material/content_copy:")
with right:
    st.subheader("Imports and ingest, last 30 days")
    activity = found["activity"]
    if activity.is_empty():
        st.caption("No imports or ingest runs in the last 30 days.")
    else:
        st.bar_chart(activity, x="day", y="created", color="kind", y_label="Contacts created", x_label="")
    history = import_history(con, limit=5)
    if not history.is_empty():
        st.dataframe(history, hide_index=True, width="stretch")
