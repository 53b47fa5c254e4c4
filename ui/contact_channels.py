"""The details page's additional emails and phones: a small table per kind, saved as one edit of the contact."""

import duckdb
import polars as pl
import streamlit as st

from core.contacts.channels import KINDS, LABELS, Channel, Kind, contact_channels, set_contact_channels
from core.contacts.models import Contact
from core.errors import ContactsError
from ui.session import user
from ui.widgets import show_error

_TITLES = {"email": "Additional emails", "phone": "Additional phones"}


def additional_channels(con: duckdb.DuckDBPyConnection, contact: Contact, opened: dict[str, int]) -> None:
    """Show and edit the contact's other emails and phones; `opened` holds the version each page opened."""
    with st.container(border=True):
        for kind in KINDS:
            _editor(con, contact, kind, opened)


def _editor(con: duckdb.DuckDBPyConnection, contact: Contact, kind: Kind, opened: dict[str, int]) -> None:
    st.markdown(f"**{_TITLES[kind]}**")
    current = contact_channels(con, contact.contact_id, kind)
    rows = pl.DataFrame(
        {"value": [c.value for c in current], "label": [c.label or "" for c in current]},
        schema={"value": pl.String, "label": pl.String},
    )
    key = f"channels:{contact.contact_id}:{kind}:{opened.get(contact.contact_id, contact.version)}"
    edited = st.data_editor(
        rows,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "value": st.column_config.TextColumn("Email" if kind == "email" else "Phone", required=True),
            "label": st.column_config.SelectboxColumn("Label", options=list(LABELS)),
        },
    )
    wanted = [
        Channel(value=str(row["value"] or ""), label=row["label"] or None)
        for row in pl.DataFrame(edited).iter_rows(named=True)
    ]
    if [c.model_dump() for c in wanted] == [c.model_dump() for c in current]:
        return
    if st.button(f"Save {_TITLES[kind].lower()}", key=f"{key}:save", icon=":material/save:"):
        try:
            set_contact_channels(con, contact.contact_id, kind, wanted, opened[contact.contact_id], user())
            opened[contact.contact_id] += 1  # our own change: the page stays current
            st.rerun()
        except ContactsError as error:
            show_error(error)
