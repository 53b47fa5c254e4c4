"""Messages (migration 013) beyond the ingest: the demo's threads and the reader's order."""

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest

from core.channels.reading import contact_conversations, conversation_messages
from core.contacts.records import delete_contacts
from core.db import open_database, rows, scalar
from core.demo.generator import generate_demo
from core.demo.related import MAX_MESSAGES

NOW = datetime(2026, 11, 30, 12, 0)


@pytest.fixture(scope="module")
def demo() -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_database()
    generate_demo(con, contacts=400, seed=11, now=NOW)
    yield con
    con.close()


def test_the_reader_gives_a_conversations_messages_oldest_first(fresh_db, add_contact):
    add_contact(fresh_db, "ada", first_name="Ada")
    fresh_db.execute(
        "INSERT INTO conversations (conversation_id, contact_id, channel, kind, started_at, last_message_at) "
        "VALUES (900, 'ada', 'SMS', 'inbox', '2026-01-01 09:00', '2026-01-01 09:30')"
    )
    for key, at, direction, text in [
        (1, "2026-01-01 09:30", "in", "third"),
        (2, "2026-01-01 09:00", "in", "first"),
        (3, "2026-01-01 09:10", "out", "second"),
        (4, "2026-01-01 09:30", "out", "fourth: same time, stored later"),
    ]:
        fresh_db.execute(
            "INSERT INTO messages (message_key, conversation_id, contact_id, channel, direction, sent_at, text) "
            "VALUES (?, 900, 'ada', 'SMS', ?, ?, ?)",
            [key, direction, at, text],
        )
    read = conversation_messages(fresh_db, 900)
    assert read.columns == ["sent_at", "channel", "direction", "text"]
    assert read["text"].to_list() == ["first", "second", "third", "fourth: same time, stored later"]
    assert read["direction"].to_list() == ["in", "out", "in", "out"]
    assert conversation_messages(fresh_db, 901).is_empty()


def test_the_demo_writes_a_few_messages_per_conversation_within_its_times(demo):
    per_conversation = rows(
        demo,
        "SELECT any_value(c.message_count), count(m.message_id), min(m.sent_at) >= any_value(c.started_at), "
        "max(m.sent_at) = any_value(c.last_message_at), "
        "bool_and(m.contact_id = c.contact_id AND m.channel = c.channel) "
        "FROM conversations c LEFT JOIN messages m USING (conversation_id) GROUP BY c.conversation_id",
    )
    assert per_conversation
    for message_count, kept, after_start, ends_last, same_contact in per_conversation:
        assert kept == min(message_count, MAX_MESSAGES) and after_start and ends_last and same_contact
    # An open conversation waits for the team: its last message is the contact's.
    waiting = rows(
        demo,
        "SELECT DISTINCT arg_max(m.direction, (m.sent_at, m.message_id)) FROM conversations c "
        "JOIN messages m USING (conversation_id) WHERE c.status = 'open' GROUP BY c.conversation_id",
    )
    assert waiting == [("in",)]
    assert scalar(demo, "SELECT count(DISTINCT direction) FROM messages") == 2
    assert scalar(demo, "SELECT count(*) FROM messages WHERE text LIKE '%{n}%'") == 0


def test_the_same_seed_gives_the_same_messages():
    first, second = open_database(), open_database()
    generate_demo(first, contacts=150, seed=3, now=NOW)
    generate_demo(second, contacts=150, seed=3, now=NOW)
    query = "SELECT * FROM messages ORDER BY message_id"
    assert rows(first, query) == rows(second, query) != []


def test_a_demo_conversation_opens_with_its_messages_and_deleting_the_contact_leaves_none(demo):
    contact_id, conversation_id = rows(demo, "SELECT contact_id, conversation_id FROM messages LIMIT 1")[0]
    assert conversation_id in contact_conversations(demo, contact_id)["conversation_id"].to_list()
    assert not conversation_messages(demo, conversation_id).is_empty()
    delete_contacts(demo, [contact_id], "admin", 1)
    assert scalar(demo, "SELECT count(*) FROM messages WHERE contact_id = ?", [contact_id]) == 0
    assert scalar(demo, "SELECT count(*) FROM messages m ANTI JOIN contacts c USING (contact_id)") == 0
