"""Edge values are refused per line and control characters stay out, from every path (issue 14, points 3, 5)."""

import json

import pytest

from core.channels.events import parse_lines
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, update_contact
from core.errors import ContactsError

EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
HOSTILE = ["a\x00b", "a\x07b", "\x1b[31mred", "a\x7fb", "a\x85\x9bb", "evil\u202egnp.exe", "a\u2066b\u2069"]


@pytest.mark.parametrize("at", EDGE_TIMES)
def test_an_out_of_range_time_is_one_malformed_line(at):
    lines = [
        json.dumps({"type": "webchat", "contact_id": "a1", "at": at}),
        json.dumps({"type": "webchat", "contact_id": "a2", "at": "2026-11-25T09:30:00Z"}),
    ]
    good, bad = parse_lines(lines)
    assert [item.line for item in good] == [2]
    assert [(item.line, item.reason) for item in bad] == [(1, "at: the time is out of range once turned into UTC")]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("key", ["name", "browser", "contact_id"])
def test_an_event_with_a_control_or_bidi_character_is_malformed(key, value):
    event = {"type": "webchat", "contact_id": "ok1", "at": "2026-11-25T09:30:00Z"} | {key: value}
    good, bad = parse_lines([json.dumps(event)])
    assert good == [] and bad[0].reason.startswith(f"{key}: ")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["first_name", "company", "contact_id"])
def test_a_form_refuses_control_and_bidi_characters(fresh_db, field, value):
    given = {"email": "ada@example.com", field: value}
    with pytest.raises(ContactsError):
        create_contact(fresh_db, ContactInput(**given), "admin")


def test_a_multi_line_text_keeps_its_tabs_and_line_breaks(fresh_db):
    created = create_contact(fresh_db, ContactInput(email="ada@example.com"), "admin")
    contact = update_contact(fresh_db, created.contact_id, {"address": "1 Main St\nFlat 2\tRear"}, 1, "admin")
    assert contact.address == "1 Main St\nFlat 2\tRear"


@pytest.mark.parametrize("value", ["Ada\tLovelace", "Ada\nLovelace", "Ada\r\nLovelace"])
@pytest.mark.parametrize("field", ["first_name", "last_name", "company"])
def test_a_one_line_field_refuses_tabs_and_line_breaks(fresh_db, field, value):
    with pytest.raises(ContactsError, match="one line"):
        create_contact(fresh_db, ContactInput(email="ada@example.com", **{field: value}), "admin")


def test_an_event_name_is_one_line():
    event = {"type": "webchat", "contact_id": "ok1", "at": "2026-11-25T09:30:00Z", "name": "Ada\nLovelace"}
    good, bad = parse_lines([json.dumps(event)])
    assert good == [] and bad[0].reason == "name: the value holds a tab or line break; this field is one line"
