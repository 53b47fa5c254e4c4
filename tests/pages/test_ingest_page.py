"""The Channels page (ingest history, upload) and the channel section of the contact details, under AppTest."""

import json

from core.channels.ingest import ingest_lines
from core.contacts.records import set_blocked
from tests.pages.conftest import open_as_agent
from ui.session import db

VISITOR = json.dumps({"type": "webchat", "contact_id": "page-visitor", "at": "2026-11-25T09:00:00Z", "text": "hi"})
WHATSAPP = json.dumps(
    {
        "type": "inbox",
        "channel": "WhatsApp",
        "social_id": "+34612345678",
        "email": "ada@engine.example",
        "at": "2026-11-25T09:01:00Z",
        "text": "hola",
    }
)


def captions(app) -> list[str]:
    return [caption.value for caption in app.caption]


def test_the_page_says_when_nothing_was_ingested(open_page):
    app = open_page("pages/channels.py")
    assert not app.exception
    assert "No events have been ingested yet." in captions(app)


def test_recent_runs_show_their_counts(open_page):
    open_page("pages/channels.py")
    ingest_lines(db(), [VISITOR, WHATSAPP, "{broken"], actor="admin", origin="cli: events.jsonl")
    app = open_page("pages/channels.py")
    runs = app.dataframe[0].value
    first = runs.iloc[0] if hasattr(runs, "iloc") else runs.row(0, named=True)
    assert (first["origin"], first["events"], first["created"], first["updated"], first["malformed"]) == (
        "cli: events.jsonl",
        3,
        1,
        1,
        1,
    )


def test_an_agent_cannot_see_the_ingest_history(app_db):
    app = open_as_agent("channels", "Channels")
    assert not app.dataframe


def test_contact_details_show_identities_conversations_and_refusals(open_page, app_db):
    ada = app_db["Ada"].contact_id
    open_page("pages/contact.py", id=ada)
    ingest_lines(db(), [WHATSAPP], actor="admin")
    set_blocked(db(), [ada], True, "admin")
    ingest_lines(db(), [WHATSAPP.replace("09:01", "09:05")], actor="admin")
    app = open_page("pages/contact.py", id=ada)
    assert not app.exception
    tables = [table.value for table in app.dataframe]
    identities = next(table for table in tables if "social_id" in table.columns)  # after the emails/phones editor
    identity = identities.iloc[0] if hasattr(identities, "iloc") else identities.row(0, named=True)
    assert (identity["channel"], identity["social_id"]) == ("WhatsApp", "+34612345678")
    assert "1 conversation" in captions(app)
    assert "Refused while blocked: 1 event" in captions(app)
