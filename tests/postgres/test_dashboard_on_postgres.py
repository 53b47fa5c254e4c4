"""The dashboard on PostgreSQL (issue 16): every figure equals DuckDB's on the same demo, and each count equals
what its list filter selects there. tests/test_dashboard.py checks the figures against the rows on DuckDB (its demo
fixture opens DuckDB itself; tests/postgres/rerun/test_dashboard.py reruns only its fresh_db tests here)."""

from datetime import datetime, timedelta

import pytest

from core import dashboard
from core.accounts.users import bootstrap_admin
from core.dashboard.drill import filled_filter
from core.db import open_database, rows
from core.demo.generator import generate_demo
from core.views.filters import filter_fields
from core.views.queries import ListView, count_view

pytestmark = pytest.mark.postgres

MOMENT = datetime(2026, 6, 1, 12)

# Extra emails and phones (contact_channels) of contacts without one of their own, and with one: the first kind
# makes the contact reachable, which the completeness counts read from another table than the contacts.
CHANNELS = """
INSERT INTO contact_channels (contact_id, kind, value, position)
SELECT contact_id, 'email', 'extra.' || contact_id || '@example.org', 1 FROM contacts
WHERE (email IS NULL OR email = '') AND row_key % 3 = 0
UNION ALL
SELECT contact_id, 'phone', '+1555' || row_key, 1 FROM contacts WHERE row_key % 5 = 0
"""


def _figures(con) -> dict:
    end = MOMENT.date()
    found = {
        "funnel": dashboard.lead_stage_funnel(con).rows(),
        "owners": dashboard.contacts_by_owner(con).rows(),
        "countries": dashboard.contacts_by_country(con, top=500).rows(),
        "subscriptions": dashboard.subscriptions(con).rows(),
        "tags": dashboard.top_tags(con, top=50).rows(),
        "range": dashboard.created_range(con),
        "over_time": dashboard.contacts_over_time(con, end - timedelta(days=120), end, "week", "source").rows(),
    }
    kpis, completeness = dashboard.kpis_and_completeness(con, end)
    together = {f"together {name}": figure.rows() for name, figure in dashboard.breakdowns(con, top=500).items()}
    assert together["together stages"] == found["funnel"] and together["together countries"] == found["countries"]
    return found | together | {"kpis": kpis.model_dump(), "completeness": completeness.rows()}


def test_the_dashboard_on_postgresql_is_the_dashboard_on_duckdb(pg_db):
    duck = open_database()
    bootstrap_admin(duck)  # as pg_db's
    for con in (pg_db, duck):
        generate_demo(con, contacts=400, seed=5, now=MOMENT)
        con.execute(CHANNELS)
        con.execute("UPDATE contacts SET tags = tags || tags WHERE row_key % 7 = 0")  # tags held twice count once
    on_pg, on_duck = _figures(pg_db), _figures(duck)
    assert rows(pg_db, "SELECT count(*) FROM contact_channels")[0][0] > 0
    for name, figure in on_duck.items():
        assert on_pg[name] == figure, name
    kpis = on_pg["kpis"]
    assert 0 < kpis["blocked"] and 0 < kpis["with_email"] < kpis["total"]


# Number and date custom values are read by the store's own TRY_CAST (Dialect.try_cast, passed to compile_filter):
# a completeness bar of such a field opens a list of as many contacts on PostgreSQL too.
TYPED = ("number", "datetime")


def _drill_counts(con, kinds: tuple[str, ...] | None) -> list[tuple[str, int, int]]:
    """(field, dashboard count, list filter count) for each completeness bar with a filter (of these kinds)."""
    _, completeness = dashboard.kpis_and_completeness(con, MOMENT.date())
    fields = filter_fields(con)
    found = []
    for key, _, filled, _ in completeness.iter_rows():
        wanted = filled_filter(fields, key)
        typed = key in fields and fields[key].kind in TYPED
        if wanted is not None and (kinds is None or typed == (kinds == TYPED)):
            found.append((key, filled, count_view(con, ListView(segment="all", filter=wanted), "admin")))
    return found


def test_completeness_counts_what_each_filter_selects_on_postgresql(pg_db):
    generate_demo(pg_db, contacts=300, seed=8, now=MOMENT)
    pg_db.execute(CHANNELS)
    kpis, completeness = dashboard.kpis_and_completeness(pg_db, MOMENT.date())
    plain_email = rows(pg_db, "SELECT count(*) FROM contacts WHERE NOT blocked AND email <> ''")[0][0]
    assert kpis.with_email > plain_email  # the extra emails count
    assert dict(completeness.select("field", "filled").iter_rows())["email"] == kpis.with_email
    checked = _drill_counts(pg_db, ())
    assert {"email", "phone", "name", "company"} <= {key for key, _, _ in checked}
    for key, filled, selected in checked:
        assert filled == selected, key


def test_typed_custom_completeness_counts_what_its_filter_selects_on_postgresql(pg_db):
    generate_demo(pg_db, contacts=100, seed=8, now=MOMENT)
    checked = _drill_counts(pg_db, TYPED)
    assert checked
    for key, filled, selected in checked:
        assert filled == selected, key
