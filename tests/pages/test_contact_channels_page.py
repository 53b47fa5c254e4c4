"""The details page shows a contact's additional emails and phones (ui/contact_channels.py)."""

from ui.session import db


def test_the_details_page_shows_additional_emails_and_phones(app_db, open_page):
    ada = app_db["Ada"]
    db().execute("INSERT INTO contact_channels VALUES (?, 'email', 'ada@work.example', 'work', 1)", [ada.contact_id])
    app = open_page("pages/contact.py", id=ada.contact_id)
    assert not app.exception
    editors = {e.key.split(":")[2]: e for e in app.dataframe if (e.key or "").startswith("channels:")}
    assert set(editors) == {"email", "phone"}
    shown = editors["email"].value
    assert list(shown["value"]) == ["ada@work.example"] and list(shown["label"]) == ["work"]
    assert editors["phone"].value.shape[0] == 0
    assert [m.value for m in app.markdown if "Additional" in m.value] == [
        "**Additional emails**",
        "**Additional phones**",
    ]
