"""Dashboard figures: each one against the same figure computed in Polars from the rows, on demo data; and
each bar's drill-down filter selects as many contacts as the bar counts."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from core import dashboard
from core.accounts.users import bootstrap_admin
from core.contacts.custom_values import held_values_sql
from core.dashboard.countries import country_of_phone
from core.dashboard.drill import choice_filter, country_filter, created_filter, filled_filter, tag_filter
from core.db import frame, open_database
from core.demo.generator import generate_demo
from core.duplicates.store import duplicate_groups, find_duplicates
from core.views.filters import Filter, filter_fields, filter_from_url, filter_to_url
from core.views.queries import ListView, count_view

NOW = datetime(2026, 11, 25, 12, 0)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def demo() -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_database()
    bootstrap_admin(con)
    generate_demo(con, contacts=2000, seed=23, now=NOW)
    yield con
    con.close()


@pytest.fixture(scope="module")
def people(demo: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every contact not blocked, as rows."""
    return frame(demo, "SELECT * FROM contacts WHERE NOT blocked")


def filled(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column) != "")


def as_dict(figure: pl.DataFrame, key: str, value: str = "contacts") -> dict:
    return dict(zip(figure[key].to_list(), figure[value].to_list(), strict=True))


def counted(table: pl.DataFrame, key: str) -> dict:
    return as_dict(table.group_by(key).agg(contacts=pl.len()), key)


def count(con: duckdb.DuckDBPyConnection, filter_: Filter | None) -> int:
    assert filter_ is not None
    return count_view(con, ListView(segment="all", filter=filter_from_url(filter_to_url(filter_))), "admin")


def test_kpis(demo, people):
    everyone = frame(demo, "SELECT * FROM contacts")
    monday = TODAY - timedelta(days=TODAY.weekday())
    created = pl.col("created_on").dt.date()
    figures = dashboard.kpis(demo, TODAY)
    assert figures.total == people.height
    assert figures.blocked == everyone.filter(pl.col("blocked")).height > 0
    assert figures.new_this_week == people.filter(created >= monday).height
    assert figures.new_last_week == people.filter(created.is_between(monday - timedelta(days=7), monday, "left")).height
    assert figures.with_email == people.filter(filled("email")).height
    assert figures.with_phone == people.filter(filled("phone")).height
    assert 0 < figures.email_share < 1


def test_lead_stage_funnel_in_pipeline_order(demo, people):
    funnel = dashboard.lead_stage_funnel(demo)
    assert funnel["stage"].to_list() == ["Lead", "Contact", "Qualified", "Customer", "Churned"]
    assert as_dict(funnel, "stage") == counted(people, "lead_stage")
    for stage, contacts in funnel.iter_rows():
        assert count(demo, choice_filter("lead_stage", stage)) == contacts


def test_contacts_by_owner_with_names(demo, people):
    owners = dashboard.contacts_by_owner(demo)
    assert as_dict(owners, "owner_id") == counted(people, "owner_id")
    names = dict(frame(demo, "SELECT owner_id, name FROM owners").iter_rows())
    assert owners["owner"].to_list() == [names.get(owner, "Unassigned") for owner in owners["owner_id"].to_list()]
    for owner_id, _, contacts in owners.iter_rows():
        assert count(demo, choice_filter("owner_id", owner_id)) == contacts


def test_contacts_by_country_from_the_field_else_the_phone(demo, people):
    placed = people.with_columns(
        where=pl.when(filled("country"))
        .then(pl.col("country"))
        .otherwise(pl.col("phone").map_elements(country_of_phone, return_dtype=pl.String))
    ).drop_nulls("where")
    expected = counted(placed.with_columns(pl.col("where").str.to_lowercase()), "where")
    countries = dashboard.contacts_by_country(demo, top=500)
    assert {name.lower(): contacts for name, contacts in as_dict(countries, "country").items()} == expected
    assert countries["contacts"].to_list() == sorted(countries["contacts"].to_list(), reverse=True)
    for country, contacts, _ in countries.head(6).iter_rows():
        assert count(demo, country_filter(country)) == contacts


def test_a_contact_without_a_country_is_placed_by_its_phone(fresh_db, add_contact):
    add_contact(fresh_db, "a", stored=True, phone="+442079460958", country="")
    add_contact(fresh_db, "b", stored=True, phone="+442079460959", country="Spain")
    add_contact(fresh_db, "c", stored=True, email="c@x.example", country="united kingdom")
    add_contact(fresh_db, "d", stored=True, email="d@x.example")
    countries = dashboard.contacts_by_country(fresh_db)
    assert countries.rows() == [("United Kingdom", 2, 1), ("Spain", 1, 0)]
    assert count(fresh_db, country_filter("United Kingdom")) == 2


def test_subscriptions(demo, people):
    figure = dashboard.subscriptions(demo)
    for field in ("email_subscription", "sms_subscription"):
        mine = figure.filter(pl.col("field") == field)
        assert as_dict(mine, "status") == counted(people, field)
        for _, _, status, contacts in mine.iter_rows():
            assert count(demo, choice_filter(field, status)) == contacts


def test_top_tags(demo, people):
    tags = dashboard.top_tags(demo, top=5)
    every = counted(people.select(pl.col("tags").list.unique()).explode("tags").drop_nulls(), "tags")
    assert tags["contacts"].to_list() == sorted(every.values(), reverse=True)[:5]
    for tag, contacts in tags.iter_rows():
        assert every[tag] == contacts == count(demo, tag_filter(tag))


def test_a_tag_held_twice_by_one_contact_counts_that_contact_once(fresh_db, add_contact):
    add_contact(fresh_db, "a", stored=True, first_name="Ada", tags=["vip", "new", "vip"])  # as no writer stores it
    add_contact(fresh_db, "b", stored=True, first_name="Bo", tags=["vip", "new"])
    assert sorted(dashboard.top_tags(fresh_db).rows()) == [("new", 2), ("vip", 2)]


def test_field_completeness(demo, people):
    completeness = dashboard.field_completeness(demo)
    shares = as_dict(completeness, "field", "filled")
    assert shares["email"] == people.filter(filled("email")).height
    assert shares["name"] == people.filter(filled("first_name") | filled("last_name")).height
    assert shares["company"] == people.filter(filled("company")).height
    values = frame(demo, held_values_sql(demo)).join(people.select("contact_id"), on="contact_id")
    for key, filled_count in shares.items():
        if key.startswith("custom."):
            assert filled_count == values.filter(pl.col("field_key") == key.removeprefix("custom.")).height > 0
    fields = filter_fields(demo)
    for key, _, contacts, share in completeness.iter_rows():
        assert share == pytest.approx(contacts / people.height)
        if fields.get(key) is None or fields[key].kind != "checkbox":
            assert count(demo, filled_filter(fields, key)) == contacts
        else:
            assert filled_filter(fields, key) is None


@pytest.mark.parametrize(("grain", "by"), [("day", "source"), ("week", "channel"), ("month", "source")])
def test_contacts_over_time(demo, people, grain, by):
    start, end = TODAY - timedelta(days=100), TODAY - timedelta(days=3)
    figure = dashboard.contacts_over_time(demo, start, end, grain, by)
    window = people.filter(pl.col("created_on").dt.date().is_between(start, end))
    expected = (
        window.with_columns(
            period=pl.col("created_on").dt.truncate({"day": "1d", "week": "1w", "month": "1mo"}[grain]).dt.date(),
            value=pl.col(by).fill_null("(none)"),
        )
        .group_by("period", "value")
        .agg(contacts=pl.len())
        .sort("period", "value")
    )
    assert figure.rows() == expected.rows()
    for period, value, contacts in figure.sort("contacts", descending=True).head(3).rows() + figure.head(1).rows():
        wanted = created_filter(period, grain, by, None if value == "(none)" else value, (start, end))
        assert count(demo, wanted) == contacts


def test_duplicate_rate_from_the_last_run(demo):
    assert dashboard.duplicate_rate(demo) is None
    find_duplicates(demo, "admin")
    rate = dashboard.duplicate_rate(demo)
    assert rate is not None
    members = duplicate_groups(demo)
    assert rate.in_exact_groups == members.filter(pl.col("kind") == "exact").height > 0
    assert rate.in_likely_groups == members.filter(pl.col("kind") == "likely").height
    assert rate.groups == members["group_id"].n_unique()
    assert rate.removable == members.height - rate.groups
    assert 0 < rate.rate < 1


def test_the_duplicate_count_is_the_groups_split_as_the_duplicates_page_shows_them(fresh_db, add_contact):
    # Ada and Bea share a mailbox, Bea and Carl a desk phone; Ada and Carl are strangers: one pair and Carl alone.
    bootstrap_admin(fresh_db)
    add_contact(
        fresh_db, "a", stored=True, first_name="Ada", last_name="Quennell", birthday=date(1971, 4, 9), email="o@q.com"
    )
    add_contact(
        fresh_db, "b", stored=True, first_name="Bea", last_name="Quennell", email="o@q.com", phone="+14155550123"
    )
    add_contact(
        fresh_db,
        "c",
        stored=True,
        first_name="Carl",
        last_name="Marston",
        birthday=date(1990, 12, 1),
        phone="+14155550123",
    )
    find_duplicates(fresh_db, "admin")
    rate = dashboard.duplicate_rate(fresh_db)
    members = duplicate_groups(fresh_db)
    assert rate is not None and members["group_id"].n_unique() == 1
    assert (rate.groups, rate.in_exact_groups + rate.in_likely_groups, rate.removable) == (1, 2, 1)


def test_recent_activity_counts_imports_and_ingest_runs_per_day(fresh_db):
    at = datetime(2026, 11, 20, 10)
    fresh_db.execute(
        "INSERT INTO import_history (imported_at, actor, file_name, mode, total_rows, created, updated, skipped, "
        "rejected) VALUES (?, 'admin', 'a.csv', 'create', 5, 4, 1, 0, 0), "
        "(?, 'admin', 'b.csv', 'create', 2, 2, 0, 0, 0)",
        [at, at - timedelta(days=60)],
    )
    activity = dashboard.recent_activity(fresh_db, days=30, today=date(2026, 11, 25))
    assert activity.rows() == [(date(2026, 11, 20), "Import", 1, 4, 1)]


def test_an_empty_database_has_figures_too(fresh_db):
    assert dashboard.kpis(fresh_db).total == 0
    assert dashboard.created_range(fresh_db) is None
    assert dashboard.lead_stage_funnel(fresh_db)["contacts"].to_list() == [0, 0, 0, 0, 0]
    assert dashboard.contacts_by_country(fresh_db).is_empty()
    assert dashboard.field_completeness(fresh_db)["share"].to_list() == [0.0, 0.0, 0.0, 0.0]


def test_the_data_stamp_moves_after_a_write(fresh_db, add_contact):
    before = dashboard.data_stamp(fresh_db)
    add_contact(fresh_db, "a", email="a@x.example")
    assert dashboard.data_stamp(fresh_db) != before


def test_a_filter_travels_in_a_url_and_back():
    wanted = country_filter("United Kingdom")
    text = filter_to_url(wanted)
    assert ", " not in text and '"match":"any"' in text
    assert filter_from_url(text) == wanted
    assert filter_from_url("not json") is None
    assert filter_from_url("") is None
