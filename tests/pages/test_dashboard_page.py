"""The Dashboard (the home page) under AppTest."""

import os
import time

from streamlit.testing.v1 import AppTest

from core.contacts.records import set_blocked
from tests.pages.conftest import ROOT, sign_in_as
from ui.session import db


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _rerun_until_contacts(app: AppTest, count: str) -> dict[str, str]:
    """Rerun the page until its Contacts figure reads `count` (a thread computes the new figures), for at most
    10 s; the page's figures then."""
    for _ in range(100):
        time.sleep(0.1)
        app.run()
        if _metrics(app)["Contacts"] == count:
            break
    return _metrics(app)


def test_the_dashboard_is_the_home_page_with_its_numbers(app_db):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))
    app.run()
    assert not app.exception
    assert app.title[0].value == "Dashboard"
    metrics = _metrics(app)
    assert metrics["Contacts"] == "3"
    assert metrics["Reachable by email"] == "100%"
    assert metrics["Blocked"] == "0"


def test_every_chart_is_drawn(open_page):
    app = open_page("pages/dashboard.py")
    assert not app.exception
    subheaders = [header.value for header in app.subheader]
    for wanted in ("Contacts over time", "Lead stages", "By owner", "By country", "Field completeness", "Top tags"):
        assert wanted in subheaders
    assert "Duplicates were never looked for." in [info.value for info in app.info]


def test_an_old_list_link_still_opens_the_list(open_page):
    app = open_page("pages/dashboard.py", q="bletchley")
    assert not app.exception
    assert app.title[0].value == "Contacts"
    assert app.dataframe[0].value["email"].tolist() == ["alan@bletchley.example"]


def test_the_dashboard_follows_a_write(open_page, app_db):
    app = open_page("pages/dashboard.py")
    assert _metrics(app)["Contacts"] == "3"
    set_blocked(db(), [app_db["Alan"].contact_id], True, "admin")  # the app's own connection, as a page would
    app.run()
    metrics = _metrics(app)
    assert (metrics["Contacts"], metrics["Blocked"]) == ("2", "1")


def test_slow_figures_show_the_last_ones_while_newer_ones_are_computed(open_page, app_db, monkeypatch):
    import ui.dashboard

    monkeypatch.setattr(ui.dashboard, "SLOW_SECONDS", 0.0)  # every figure counts as slow (10M contacts)
    app = open_page("pages/dashboard.py")
    assert _metrics(app)["Contacts"] == "3"  # the first ones: computed
    set_blocked(db(), [app_db["Alan"].contact_id], True, "admin")
    app.run()
    assert not app.exception
    # The last figures, said to be old, while a thread computes the new ones.
    assert _metrics(app)["Contacts"] == "3"
    assert any("newer figures are being computed" in caption.value for caption in app.caption)
    metrics = _rerun_until_contacts(app, "2")
    assert (metrics["Contacts"], metrics["Blocked"]) == ("2", "1")
    assert not any("being computed" in caption.value for caption in app.caption)
    assert any("Figures as of" in caption.value for caption in app.caption)


def test_the_default_chart_comes_with_the_figures(app_db):
    from core import dashboard
    from core.views.filters import filter_fields
    from ui.dashboard import DEFAULT_BY, DEFAULT_GRAIN, _all_figures, default_span

    con = db()
    found = _all_figures(con, filter_fields(con))
    start, end, chart = found["chart"]
    assert (start, end) == default_span(*found["range"])
    assert chart.equals(dashboard.contacts_over_time(con, start, end, DEFAULT_GRAIN, DEFAULT_BY))
    assert chart["contacts"].sum() == 3


def test_a_new_process_shows_the_stored_figures_at_once_and_refreshes_them(open_page, app_db, monkeypatch):
    import threading

    import ui.dashboard
    from core.dashboard import snapshots
    from core.views.filters import filter_fields

    monkeypatch.setattr(ui.dashboard, "SLOW_SECONDS", 0.0)  # every figure counts as slow (10M contacts)
    app = open_page("pages/dashboard.py")  # the first process computes the figures and keeps them in the database
    assert _metrics(app)["Contacts"] == "3"
    stored = snapshots.load(db(), snapshots.figure_key("figures"))
    assert stored is not None
    fresh = ui.dashboard._all_figures(db(), filter_fields(db()))
    assert stored.value.keys() == fresh.keys()
    for name, value in fresh.items():
        if name == "chart":
            assert stored.value[name][:2] == value[:2] and stored.value[name][2].equals(value[2])
        elif hasattr(value, "equals"):
            assert stored.value[name].equals(value), name
        else:
            assert stored.value[name] == value, name

    # A new process: nothing on its board, and (DuckDB) a write stamp of its own.
    ui.dashboard._board.clear()
    monkeypatch.setattr(snapshots, "_PROCESS", "a new process")
    computed_in: list[str] = []
    compute = ui.dashboard._all_figures

    released = threading.Event()  # the refresh waits until the test has seen the page show the stored figures

    def watched(*args, **kwargs):
        computed_in.append(threading.current_thread().name)
        released.wait(30)
        return compute(*args, **kwargs)

    monkeypatch.setattr(ui.dashboard, "_all_figures", watched)
    set_blocked(db(), [app_db["Alan"].contact_id], True, "admin")  # the stored figures are behind
    app = open_page("pages/dashboard.py")
    assert not app.exception
    assert _metrics(app)["Contacts"] == "3"  # stored: shown at once
    assert any("newer figures are being computed" in caption.value for caption in app.caption)
    released.set()
    metrics = _rerun_until_contacts(app, "2")
    assert (metrics["Contacts"], metrics["Blocked"]) == ("2", "1")
    assert computed_in and all(name.startswith("dashboard-") for name in computed_in)  # never while the page waited
    refreshed = snapshots.load(db(), snapshots.figure_key("figures"))
    assert refreshed is not None and refreshed.value["kpis"].total == 2  # kept for the next process
