"""Which custom fields identify a person (an ID, a membership number): detection uses them from its next run."""

import duckdb
import streamlit as st

from core.contacts.validation import custom_fields
from core.errors import ContactsError
from core.workspace import IDENTITY_FIELD_TYPES, set_identity_fields
from ui.widgets import show_error


def identity_fields_controls(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """Choose the identity fields among the text and number custom fields, and save them."""
    eligible = {field.key: field for field in custom_fields(con) if field.type in IDENTITY_FIELD_TYPES}
    if not eligible:
        st.caption("There are no text or number custom fields: an ID or membership number would identify a contact.")
        return
    chosen = st.multiselect(
        "Custom fields that identify a contact",
        list(eligible),
        default=[key for key, field in eligible.items() if field.is_identity],
        format_func=lambda key: eligible[key].label,
        key="identity-fields",
        help="Contacts sharing such a value (an ID or membership number) are likely one person, even with "
        "another name; contacts with different values are likely not.",
    )
    if st.button("Save identity fields", icon=":material/save:"):
        try:
            set_identity_fields(con, chosen, actor)
        except ContactsError as error:
            show_error(error)
            return
        st.success("Saved. Find duplicates again to use them.", icon=":material/check_circle:")
