"""The dashboard's charts: figures from core.dashboard, cached until the next write (the contacts stamp of
core/stamps.py, which every writer moves), drawn with Plotly from cached figures; a click on a bar opens the
contacts list filtered to what it counts."""

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import plotly.express as px
import polars as pl
import streamlit as st
from plotly.graph_objects import Figure

from core import dashboard
from core.config import database_target
from core.dashboard.drill import choice_filter, country_filter, created_filter, filled_filter, tag_filter
from core.stamps import contacts_stamp
from core.views.filters import Filter, filter_to_url
from ui.cache import filter_fields  # until the next workspace write

LINK = "link"  # the column of each chart's frame holding the list filter (as URL JSON) its bar opens


def _cached(con: duckdb.DuckDBPyConnection, name: str, compute: Callable[[], Any], *key: object) -> Any:
    """`compute()` kept per database, write stamp and arguments: it runs again only after a write.

    The stamp is core.stamps.contacts_stamp: every writer of core moves it after its commit (the detection,
    import and ingest jobs, merges, users and stages included), and no other process writes the file the app
    holds; on PostgreSQL the stamp is in the database and moves with every app process's writes. (core.dashboard.
    data_stamp, a SQL fingerprint of the same, cost 18-60 ms a rerun at 1,000,000.)
    """
    return _cache(name, database_target(), contacts_stamp(con), *key, _compute=compute)


@st.cache_data(max_entries=64, show_spinner=False)
def _cache(name: str, *key: object, _compute: Callable[[], Any]) -> Any:
    return _compute()


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every figure but the over-time chart, computed once per change of the data."""
    fields = filter_fields(con)
    return _cached(con, "figures", lambda: _all_figures(con, fields))


def _links(frame: pl.DataFrame, make: Callable[..., Filter | None], *columns: str) -> pl.DataFrame:
    made = [make(*values) for values in frame.select(columns).iter_rows()]
    return frame.with_columns(pl.Series(LINK, [filter_to_url(f) if f else None for f in made], dtype=pl.String))


def _all_figures(con: duckdb.DuckDBPyConnection, fields: dict) -> dict[str, Any]:
    completeness = dashboard.field_completeness(con)
    return {
        "kpis": dashboard.kpis(con),
        "range": dashboard.created_range(con),
        "stages": _links(dashboard.lead_stage_funnel(con), lambda v: choice_filter("lead_stage", v), "stage"),
        "owners": _links(dashboard.contacts_by_owner(con), lambda v: choice_filter("owner_id", v), "owner_id"),
        "countries": _links(dashboard.contacts_by_country(con), country_filter, "country"),
        "subscriptions": _links(dashboard.subscriptions(con), choice_filter, "field", "status"),
        "tags": _links(dashboard.top_tags(con), tag_filter, "tag"),
        "completeness": _links(completeness, lambda key: filled_filter(fields, key), "field"),
        "duplicates": dashboard.duplicate_rate(con),
        "activity": dashboard.recent_activity(con),
    }


def over_time(
    con: duckdb.DuckDBPyConnection, start: date, end: date, grain: dashboard.Grain, by: dashboard.Breakdown
) -> pl.DataFrame:
    """Contacts created per period, split by source or channel, each bar part with its list filter."""
    found = _cached(
        con, "over_time", lambda: dashboard.contacts_over_time(con, start, end, grain, by), start, end, grain, by
    )

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
