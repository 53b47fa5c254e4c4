"""A contact's channels on its details page: its identities and every conversation, full width; one opens below."""

import duckdb
import streamlit as st

from core.channels.reading import contact_conversations, contact_identities, conversation_messages, refused_count
from core.contacts.models import Contact
from ui.session import plain
from ui.widgets import for_display

ROW_HEIGHT = 35
MAX_ROWS_SHOWN = 15  # more conversations scroll inside the table

CONVERSATION_COLUMNS = {
    "kind": st.column_config.TextColumn("Kind", width="small"),
    "channel": st.column_config.TextColumn("Channel", width="small"),
    "subject": st.column_config.TextColumn("Subject", width="large"),
    "started_at": st.column_config.TextColumn("Started"),
    "last_message_at": st.column_config.TextColumn("Last message"),
    "message_count": st.column_config.NumberColumn("Messages", width="small"),
    "status": st.column_config.TextColumn("Status", width="small"),
    "conversation_id": None,  # hidden: what opens the conversation
}
MAX_MESSAGES_SHOWN = 500  # the latest ones; an older part of a longer thread is counted, not drawn
AVATAR = {"in": ":material/person:", "out": ":material/support_agent:"}


def _height(rows: int) -> int:
    return ROW_HEIGHT * (min(rows, MAX_ROWS_SHOWN) + 1) + 3


def _identities(con: duckdb.DuckDBPyConnection, contact: Contact) -> None:
    identities = contact_identities(con, contact.contact_id)
    if contact.source == "web chat":
        st.caption(f"Web Chat visitor: the chat widget's cookie holds the contact ID {plain(contact.contact_id)}.")
    if identities.is_empty():
        st.caption("No Inbox identity.")
        return
    st.dataframe(
        for_display(identities),
        hide_index=True,
        width="stretch",
        column_config={
            "channel": "Channel",
            "social_id": "Social ID",
            "first_seen": "First message",
            "last_seen": "Last message",
        },
    )


def channels_section(con: duckdb.DuckDBPyConnection, contact: Contact) -> None:
    """Identities, then every conversation (newest first); selecting one opens it."""
    st.subheader("Channels")
    _identities(con, contact)
    conversations = contact_conversations(con, contact.contact_id)
    st.caption(f"{len(conversations)} conversation{'' if len(conversations) == 1 else 's'}")
    if not conversations.is_empty():
        st.caption("Select a conversation to open it.")
        picked = st.dataframe(
            for_display(conversations),
            hide_index=True,
            width="stretch",
            height=_height(len(conversations)),
            column_config=CONVERSATION_COLUMNS,
            on_select="rerun",
            selection_mode="single-row",
            key=f"conversations-{contact.contact_id}",
        )
        if picked.selection.rows:
            _conversation(con, conversations.row(picked.selection.rows[0], named=True), contact)
    refused = refused_count(con, contact.contact_id)
    if refused:
        st.caption(f"Refused while blocked: {refused:,} event{'' if refused == 1 else 's'}")


def _conversation(con: duckdb.DuckDBPyConnection, conversation: dict, contact: Contact) -> None:
    with st.container(border=True, key="conversation-open"):
        title = conversation["subject"] or "Conversation"
        st.markdown(f"**{plain(title)}** · {plain(conversation['kind'])} on {plain(conversation['channel'])}")
        lasted = conversation["last_message_at"] - conversation["started_at"]
        st.caption(
            f"Started {conversation['started_at']:%Y-%m-%d %H:%M} · last message "
            f"{conversation['last_message_at']:%Y-%m-%d %H:%M} (after {lasted}) · "
            f"{conversation['message_count']:,} message{'' if conversation['message_count'] == 1 else 's'} · "
            f"{plain(conversation['status'])}"
        )
        _messages(con, conversation, contact)


def _messages(con: duckdb.DuckDBPyConnection, conversation: dict, contact: Contact) -> None:
    """The conversation's messages, oldest first, each with its sender, channel and time; texts shown as typed."""
    messages = conversation_messages(con, conversation["conversation_id"])
    if messages.is_empty():
        st.caption("No message text was kept for this conversation (events without text, or older than the messages).")
        return
    if len(messages) < conversation["message_count"]:
        st.caption(f"{len(messages):,} of its {conversation['message_count']:,} messages carried a text kept here.")
    if len(messages) > MAX_MESSAGES_SHOWN:
        st.caption(f"The latest {MAX_MESSAGES_SHOWN:,} are shown.")
        messages = messages.tail(MAX_MESSAGES_SHOWN)
    with st.container(key="conversation-messages"):
        senders = {"in": contact.display_name, "out": "Team"}
        for sent_at, channel, direction, text in messages.iter_rows():
            with st.chat_message("user" if direction == "in" else "assistant", avatar=AVATAR[direction]):
                st.caption(f"{plain(senders[direction])} · {plain(channel)} · {sent_at:%Y-%m-%d %H:%M:%S}")
                st.text(text)  # user input: never Markdown or HTML
