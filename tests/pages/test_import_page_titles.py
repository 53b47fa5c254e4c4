"""The Import page under AppTest: Outlook's Title of honorifics is offered as a new 'Title' field and kept."""

import os

from streamlit.testing.v1 import AppTest

from core.importer import read_table
from tests.pages.conftest import ROOT, sign_in_as
from ui.session import db

OUTLOOK = (
    b"Title,First Name,Middle Name,Last Name,E-mail Address\n"
    b"Dr.,Ada,Mary,King,ada@example.com\nMr,Bob,,Stone,bob@example.com\n"
)


def test_an_honorific_title_is_offered_as_a_new_field_and_imported(app_db):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))
    app.run()
    app.switch_page("pages/import_contacts.py")
    app.session_state["import_table"] = read_table("outlook.csv", OUTLOOK)
    app = app.run()
    assert not app.exception
    assert app.selectbox(key="map:Title").value == "__new__"
    assert app.selectbox(key="map:Middle Name").value == "middle_name"
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    app = next(b for b in app.button if b.label.startswith("Import:")).click().run()
    assert not app.exception
    rows = (
        db()
        .execute(
            "SELECT c.first_name, c.last_name, v.title FROM contacts c "
            "JOIN custom_values v ON v.contact_id = c.contact_id AND v.title IS NOT NULL ORDER BY c.email"
        )
        .fetchall()
    )
    assert rows == [("Ada Mary", "King", "Dr."), ("Bob", "Stone", "Mr")]


def test_a_notes_column_is_offered_as_a_note_and_added_to_the_timeline(app_db):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))
    app.run()
    app.switch_page("pages/import_contacts.py")
    data = b'First Name,E-mail Address,Notes\nAda,ada@example.com,"Met at the fair.\nCall in May."\n'
    app.session_state["import_table"] = read_table("outlook.csv", data)
    app = app.run()
    assert not app.exception
    select = app.selectbox(key="map:Notes")
    assert select.value == "note" and "Note (added to the contact's timeline)" in select.options
    app = next(b for b in app.button if b.label == "Dry run").click().run()
    app = next(b for b in app.button if b.label.startswith("Import:")).click().run()
    assert not app.exception
    notes = db().execute("SELECT body FROM notes n JOIN contacts c USING (contact_id)").fetchall()
    assert notes == [("Met at the fair.\nCall in May.",)]
