"""The dashboard's charts: figures from core.dashboard, cached until the next write (the contacts stamp of
core/stamps.py, which every writer moves), drawn with Plotly from cached figures; a click on a bar opens the
contacts list filtered to what it counts."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import plotly.express as px
import polars as pl
import streamlit as st
from plotly.graph_objects import Figure

from core import dashboard
from core.config import database_target
from core.dashboard import snapshots
from core.dashboard.drill import choice_filter, country_filter, created_filter, filled_filter, tag_filter
from core.dashboard.snapshots import Snapshot
from core.db.dialect import dialect
from core.stamps import contacts_stamp
from core.views.filters import Filter, filter_to_url
from ui.cache import filter_fields  # until the next workspace write
from ui.session import db

LINK = "link"  # the column of each chart's frame holding the list filter (as URL JSON) its bar opens


# Figures that took this long to compute are not computed again while the page waits: after a write the page shows
# the last ones with their time, and a thread computes the new ones (the next rerun shows them). A small workspace's
# figures take milliseconds and always follow the last write; 10,000,000 contacts on PostgreSQL take seconds, and
# with several app processes writing the stamp moves all the time.
SLOW_SECONDS = 2.0
_KEEP = 64  # snapshots kept per process: one per database, figure and arguments


class _Board:
    """The process's last figures per (database, name, arguments), and which of them a thread is refreshing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shots: OrderedDict[tuple, Snapshot] = OrderedDict()
        self._refreshing: set[tuple] = set()

    def get(self, key: tuple) -> Snapshot | None:
        with self._lock:
            return self._shots.get(key)

    def adopt(self, key: tuple, shot: Snapshot) -> Snapshot:
        """Keep a snapshot read from the database (another process computed it), unless a newer one is kept."""
        with self._lock:
            kept = self._shots.get(key)
            if kept is not None and kept.stamp >= shot.stamp:
                return kept
            self._shots[key] = shot
            self._shots.move_to_end(key)
            while len(self._shots) > _KEEP:
                self._shots.popitem(last=False)
        return shot

    def clear(self) -> None:
        """Forget every snapshot (as a new process would start)."""
        with self._lock:
            self._shots.clear()

    def compute(self, key: tuple, stamp: int, compute: Callable[[], Any]) -> Snapshot:
        """Compute and keep; `stamp` is read before computing, so a write meanwhile leaves the snapshot behind it."""
        started = time.perf_counter()
        value = compute()
        shot = Snapshot(stamp, value, datetime.now(), time.perf_counter() - started)
        with self._lock:
            kept = self._shots.get(key)
            if kept is None or kept.stamp <= stamp:
                self._shots[key] = shot
                self._shots.move_to_end(key)
            while len(self._shots) > _KEEP:
                self._shots.popitem(last=False)
        return shot

    def refresh(
        self, key: tuple, stored: str, stamp: int, seconds: float, compute: Callable[[duckdb.DuckDBPyConnection], Any]
    ) -> None:
        """Compute in a thread on a cursor of its own and keep the result in the database as `stored`, unless a
        thread of this process already is, or another process holds the figure's refresh claim (its result will
        be read from the database by a later rerun)."""
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
        cursor = db()

        def run() -> None:
            try:
                lease = snapshots.claim(cursor, stored, seconds)
                if lease is None:
                    return
                try:
                    with snapshots.renewed(cursor, lease):
                        shot = self.compute(key, stamp, lambda: compute(cursor))
                except BaseException:
                    snapshots.release(cursor, lease)
                    raise
                snapshots.store(cursor, stored, shot, lease)
            finally:
                cursor.close()
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name=f"dashboard-{key[1]}", daemon=True).start()


_board = _Board()


def _cached(
    con: duckdb.DuckDBPyConnection, name: str, compute: Callable[[duckdb.DuckDBPyConnection], Any], *args: object
) -> Snapshot:
    """`compute(con)` kept per database, write stamp and arguments: it runs again only after a write, and when it
    took SLOW_SECONDS or more, in a thread while the page shows the last snapshot (its time says how old).

    Slow figures are also kept in the database (core/dashboard/snapshots.py): a process that has none yet, or
    older ones, shows the stored ones at once and refreshes behind them, one refresher across processes. With none
    stored yet, one process computes them and the others wait for its snapshot (snapshots.computed_once).

    The stamp is core.stamps.contacts_stamp: every writer of core moves it after its commit (the detection,
    import and ingest jobs, merges, users and stages included), and no other process writes the file the app
    holds; on PostgreSQL the stamp is in the database and moves with every app process's writes. (core.dashboard.
    data_stamp, a SQL fingerprint of the same, cost 18-60 ms a rerun at 1,000,000.)
    """
    key, stamp = (database_target(), name, *args), contacts_stamp(con)
    shot = _board.get(key)
    if shot is not None and shot.stamp == stamp:
        return shot
    # Behind (or none yet): figures another process (or an earlier one) kept in the database, if newer.
    stored = snapshots.figure_key(name, *args)
    found = snapshots.load(con, stored, None if shot is None else shot.stamp)
    if found is not None:
        shot = _board.adopt(key, found)
        if shot.stamp == stamp:
            return shot
    if shot is not None and shot.seconds >= SLOW_SECONDS:
        _board.refresh(key, stored, stamp, shot.seconds, compute)
        return shot
    if shot is None:  # the first anywhere: one process computes (at 10,000,000 about 30 s), the others wait for it
        found = snapshots.computed_once(
            con, stored, lambda: _board.compute(key, stamp, lambda: compute(con)), SLOW_SECONDS
        )
        return _board.adopt(key, found)
    shot = _board.compute(key, stamp, lambda: compute(con))
    if shot.seconds >= SLOW_SECONDS:
        snapshots.store(con, stored, shot)
    return shot


def figures(con: duckdb.DuckDBPyConnection) -> Snapshot:
    """Every figure but the over-time chart (a dict in `value`), computed once per change of the data."""
    fields = filter_fields(con)
    return _cached(con, "figures", lambda cursor: _all_figures(cursor, fields))


def behind(shot: Snapshot, con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the data changed since these figures were computed (a newer snapshot is being computed)."""
    return shot.stamp != contacts_stamp(con)


def _links(frame: pl.DataFrame, make: Callable[..., Filter | None], *columns: str) -> pl.DataFrame:
    made = [make(*values) for values in frame.select(columns).iter_rows()]
    return frame.with_columns(pl.Series(LINK, [filter_to_url(f) if f else None for f in made], dtype=pl.String))


# The over-time chart as the page first shows it: the last year of the created range, by week, split by source.
DEFAULT_GRAIN: dashboard.Grain = "week"
DEFAULT_BY: dashboard.Breakdown = "source"


def default_span(first: date, last: date) -> tuple[date, date]:
    """The days the over-time chart shows first: the last 365 of the created range."""
    return max(first, last - timedelta(days=365)), last


def _all_figures(con: duckdb.DuckDBPyConnection, fields: dict) -> dict[str, Any]:
    parts: dict[str, Callable[[duckdb.DuckDBPyConnection], Any]] = {
        "headline": dashboard.kpis_and_completeness,
        "split": dashboard.breakdowns,  # stages, owners, countries and subscriptions: one scan
        "tags": dashboard.top_tags,
        "duplicates": dashboard.duplicate_rate,
        "activity": dashboard.recent_activity,
    }
    span = dashboard.created_range(con)  # read along an index: first, so the default chart is computed with the rest
    if span is not None:
        start, end = default_span(*span)
        parts["chart"] = lambda cursor: dashboard.contacts_over_time(cursor, start, end, DEFAULT_GRAIN, DEFAULT_BY)
    found = _at_once(con, parts) if dialect(con).reads_at_once else {name: part(con) for name, part in parts.items()}
    kpis, completeness = found["headline"]
    split = found["split"]
    return {
        "kpis": kpis,
        "range": span,
        "chart": (start, end, found["chart"]) if span is not None else None,  # the default over-time chart
        "stages": _links(split["stages"], lambda v: choice_filter("lead_stage", v), "stage"),
        "owners": _links(split["owners"], lambda v: choice_filter("owner_id", v), "owner_id"),
        "countries": _links(split["countries"], country_filter, "country"),
        "subscriptions": _links(split["subscriptions"], choice_filter, "field", "status"),
        "tags": _links(found["tags"], tag_filter, "tag"),
        "completeness": _links(completeness, lambda key: filled_filter(fields, key), "field"),
        "duplicates": found["duplicates"],
        "activity": found["activity"],
    }


def _at_once(
    con: duckdb.DuckDBPyConnection, parts: dict[str, Callable[[duckdb.DuckDBPyConnection], Any]]
) -> dict[str, Any]:
    """Each part computed in a thread of its own on a cursor of its own (Dialect.reads_at_once)."""
    cursors = {name: con.cursor() for name in parts}

    def run(name: str) -> Any:
        try:
            return parts[name](cursors[name])
        finally:
            cursors[name].close()

    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="dashboard") as pool:
        running = {name: pool.submit(run, name) for name in parts}
        return {name: future.result() for name, future in running.items()}


def over_time(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    grain: dashboard.Grain,
    by: dashboard.Breakdown,
    shot: Snapshot | None = None,
) -> pl.DataFrame:
    """Contacts created per period, split by source or channel, each bar part with its list filter. The default
    chart comes with the figures of `shot` (computed with them, as old as they are); any other is kept on its own."""
    chart = shot.value.get("chart") if shot is not None else None
    if chart is not None and (chart[0], chart[1], grain, by) == (start, end, DEFAULT_GRAIN, DEFAULT_BY):
        found = chart[2]
    else:
        found = _cached(
            con,
            "over_time",
            lambda cursor: dashboard.contacts_over_time(cursor, start, end, grain, by),
            start,
            end,
            grain,
            by,
        ).value

    def link(period: date, value: str) -> Filter:
        return created_filter(period, grain, by, None if value == dashboard.figures.NONE_LABEL else value, (start, end))

    # Periods as labels: a date axis would stretch one week's bar over hours of empty ticks.
    return _links(found, link, "period", "value").with_columns(pl.col("period").cast(pl.String))


def bar_chart(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    color: str | None = None,
    reverse_y: bool = False,
    percent_x: bool = False,
    category_x: bool = False,
    **options: Any,
) -> Figure:
    """A Plotly bar chart whose bars carry their list filter; the same frame and options give the same figure,
    built once (40 ms of Plotly each, seven a dashboard). Shared between runs: never change the figure returned."""
    return _figure(frame, x, y, color, reverse_y, percent_x, category_x, options)


@st.cache_resource(max_entries=128, show_spinner=False)
def _figure(
    frame: pl.DataFrame,
    x: str,
    y: str,
    color: str | None,
    reverse_y: bool,
    percent_x: bool,
    category_x: bool,
    options: dict[str, Any],
) -> Figure:
    figure = px.bar(frame.to_pandas(), x=x, y=y, color=color, custom_data=[LINK], **options)
    figure.update_layout(margin={"l": 0, "r": 0, "t": 30, "b": 0}, clickmode="event+select", dragmode=False)
    if reverse_y:
        figure.update_yaxes(autorange="reversed")
    if percent_x:
        figure.update_xaxes(tickformat=".0%")
    if category_x:
        figure.update_xaxes(type="category")
    return figure


def clickable_chart(figure: Figure, key: str) -> None:
    """Draw the chart; a click on a bar opens the contacts list filtered to the contacts it counts."""
    event = st.plotly_chart(figure, key=key, on_select="rerun", selection_mode="points", width="stretch")
    points = event.selection.points if event else []
    links = [point.get("customdata", [None])[0] for point in points]
    chosen = next((link for link in links if link), None)
    if chosen:
        st.switch_page("pages/contacts.py", query_params={"segment": "all", "filter": chosen})
