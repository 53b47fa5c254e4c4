"""Contact details and New contact under AppTest."""

from core.contacts.records import get_contact, update_contact
from core.db import scalar
from core.duplicates.merge import merge_contacts
from ui.session import db


def by_label(widgets, label: str):
    return next(widget for widget in widgets if widget.label == label)


def save(app):
    return app.button(key="FormSubmitter:properties-Save changes").click().run()


def test_details_show_every_property_and_the_timeline(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Grace"].contact_id)
    assert not app.exception
    assert app.title[0].value == "Grace"
    assert by_label(app.text_input, "Email").value == "grace@navy.example"
    assert by_label(app.selectbox, "Plan").value == "Pro"
    assert any("created by admin" in block.value for block in app.markdown)


def test_an_edit_is_saved_with_activity(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Alan"].contact_id)
    by_label(app.text_input, "Company").input("Bletchley Park")
    by_label(app.selectbox, "Plan").select("Pro")
    save(app)
    assert not app.error
    con = db()
    saved = get_contact(con, app_db["Alan"].contact_id)
    assert (saved.company, saved.custom["plan"], saved.version) == ("Bletchley Park", "Pro", 2)
    assert scalar(con, "SELECT count(*) FROM activity WHERE action = 'updated'") == 1


def test_an_invalid_phone_is_refused_at_the_field_and_writes_nothing(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Ada"].contact_id)
    by_label(app.text_input, "Phone").input("12")
    save(app)
    assert "not a possible phone number" in app.error[0].value
    con = db()
    assert get_contact(con, app_db["Ada"].contact_id).version == 1


def test_a_stale_edit_is_refused_not_silently_overwritten(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Grace"].contact_id)
    # Another user saves while this page is open (through the app's own connection).
    update_contact(db(), app_db["Grace"].contact_id, {"job_title": "Admiral"}, 1, "admin")
    by_label(app.text_input, "Job title").input("Rear admiral")
    save(app)
    assert any("Someone else changed this contact" in e.value for e in app.error)
    assert get_contact(db(), app_db["Grace"].contact_id).job_title == "Admiral"


def test_notes_are_added_to_the_timeline(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Ada"].contact_id)
    app.text_area[0].input("Called about **pricing** <b>bold</b>")
    app.button(key="FormSubmitter:note-Add note").click().run()
    assert any(text.value == "Called about **pricing** <b>bold</b>" for text in app.text)


def test_delete_needs_the_typed_count(open_page, app_db):
    app = open_page("pages/contact.py", id=app_db["Ada"].contact_id)
    delete = next(b for b in app.button if b.label == "Delete contact")
    assert delete.disabled
    by_label(app.text_input, "Type 1 to confirm").input("1").run()
    next(b for b in app.button if b.label == "Delete contact").click().run()
    assert scalar(db(), "SELECT count(*) FROM contacts WHERE first_name = 'Ada'") == 0


def test_an_unknown_contact_says_so(open_page):
    app = open_page("pages/contact.py", id="nope")
    assert "There is no contact nope" in app.error[0].value


def test_new_contact_needs_an_identity_and_shows_the_error_at_the_field(open_page):
    app = open_page("pages/new_contact.py")
    by_label(app.text_input, "First name (optional)").input("Nobody")
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["Enter at least one of email, phone or contact ID."]
    by_label(app.text_input, "Phone").input("12")
    app.button[0].click().run()
    assert "not a possible phone number" in app.error[0].value
    assert scalar(db(), "SELECT count(*) FROM contacts") == 3


def test_new_contact_with_a_taken_id_is_refused(open_page, app_db):
    app = open_page("pages/new_contact.py")
    by_label(app.text_input, "Contact ID").input(app_db["Grace"].contact_id)
    app.button[0].click().run()
    assert "already exists" in app.error[0].value


def test_an_old_link_to_a_merged_contact_opens_the_contact_it_was_merged_into(open_page, app_db):
    grace, ada = app_db["Grace"].contact_id, app_db["Ada"].contact_id
    merge_contacts(db(), grace, [ada], "admin")
    app = open_page("pages/contact.py", id=ada)
    assert not app.error and not app.exception
    assert app.info[0].value == f"Contact {ada} was merged into this contact."
    assert app.title[0].value == "Grace"
    assert app.query_params["id"] == grace
