"""The Import page's dry run shows both lists, how the file was read, and the choices reading needs (issue 11)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.importer import read_table
from tests.pages.conftest import ROOT, sign_in_as

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-exports"
FILES = Path(__file__).resolve().parents[1] / "files" / "import"


def _page(table) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, "admin")
    app.run()
    app.switch_page("pages/import_contacts.py")
    app.session_state["import_table"] = table
    return app.run()


def test_the_dry_run_lists_rejected_rows_and_values_left_out(app_db):
    app = _page(read_table("bad_rows.csv", (FILES / "bad_rows.csv").read_bytes()))
    assert not app.exception
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {"Created": "7", "Updated": "0", "Skipped": "0", "Rejected": "1", "Combined": "0"}
    rejected, warned = app.dataframe[0].value, app.dataframe[1].value
    assert list(rejected["line"]) == [5]
    assert list(warned.columns) == ["line", "column", "value", "reason", "action"]
    assert any("Encoding: utf-8" in caption.value for caption in app.caption)


def test_short_rows_offer_the_missing_column_and_unmapped_columns_can_be_kept(app_db):
    table = read_table("chatwoot.csv", (REAL / "chatwoot-import-contacts-sample.csv").read_bytes())
    app = _page(table)
    assert not app.exception
    assert app.selectbox(key="import_missing_column").value == "Found from the values"
    assert "document_number" in app.checkbox(key="import_keep_unmapped").label
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    assert {metric.label: metric.value for metric in app.metric}["Created"] == "25"
    assert any("short rows lack 'document_number'" in caption.value for caption in app.caption)


DATES = b"Email,Birthday\nada@example.com,03/04/1990\nbob@example.com,05/06/1991\n"


def test_an_ambiguous_date_column_asks_preset_from_the_workspace_country(app_db):
    app = _page(read_table("dates.csv", DATES))
    assert not app.exception
    assert app.radio(key="import_date_order:Birthday").value == "month first"  # the workspace's country: US
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    assert any("'Birthday': month first" in caption.value for caption in app.caption)


def test_the_date_order_follows_a_day_first_country_and_the_users_choice(app_db):
    import os

    from core.db import open_database
    from core.workspace import set_default_country

    con = open_database(os.environ["CONTACTS_DB"])
    set_default_country(con, "GB", actor="admin")
    con.close()
    app = _page(read_table("dates.csv", DATES))
    assert app.radio(key="import_date_order:Birthday").value == "day first"
    app.radio(key="import_date_order:Birthday").set_value("month first")
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    assert app.session_state["import_plan"].staged["birthday"].cast(str).to_list() == ["1990-03-04", "1991-05-06"]


def test_a_settled_date_column_shows_how_it_is_read_in_the_mapping_step(app_db):
    app = _page(read_table("dates.csv", b"Email,Birthday\nada@example.com,20/01/1990\nbob@example.com,1991-02-03\n"))
    assert not app.exception
    shown = [caption.value for caption in app.caption]
    assert (
        "Dates in 'Birthday': year first (1991-01-20), day and month in numbers, day first (found from its values)"
        in shown
    )


def test_update_only_lists_the_skipped_rows_with_why(app_db):
    app = _page(read_table("n.csv", b"First name,Email\nAda,\nZed,zed@example.com\nGrace,grace@navy.example\n"))
    app.radio(key="import_mode").set_value("update")
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert (metrics["Updated"], metrics["Skipped"]) == ("1", "2")
    skipped = next(frame.value for frame in app.dataframe if list(frame.value.columns) == ["line", "reason"])
    assert list(skipped["line"]) == [2, 3]
    assert "only a name" in skipped["reason"][0] and "no existing contact" in skipped["reason"][1]
