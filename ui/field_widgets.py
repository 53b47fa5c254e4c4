"""One input widget per field type, and the error shown right under the field it concerns."""

from datetime import date, datetime
from typing import Any

import streamlit as st

from core.contacts.fields import Field
from core.contacts.models import CustomField

OLDEST_BIRTHDAY = date(1900, 1, 1)


def field_error(key: str) -> None:
    """Show the pending validation error for this field, if it is the one that failed."""
    failed = st.session_state.get("field_error")
    if failed and failed[0] == key:
        st.error(failed[1], icon=":material/error:")


def system_input(
    field: Field, value: Any, key: str, stages: list[str], owners: dict[str, str], tag_options: list[str]
) -> Any:
    """An input for a system field, showing its current value; returns what the user left in it."""
    label = field.label
    if field.type == "stage":
        return st.selectbox(label, stages, index=stages.index(value) if value in stages else 0, key=key)
    if field.type == "owner":
        options = ["", *owners]
        return st.selectbox(
            label,
            options,
            index=options.index(value) if value in options else 0,
            key=key,
            format_func=lambda owner: owners.get(owner, "Unassigned"),
        )
    if field.type == "tags":
        return st.multiselect(
            label, sorted({*tag_options, *(value or [])}), default=value or [], key=key, accept_new_options=True
        )
    if field.choices:
        options = ["", *field.choices] if field.type != "subscription" else list(field.choices)
        if value and value not in options:
            options.append(value)
        return st.selectbox(label, options, index=options.index(value) if value in options else 0, key=key)
    if field.type == "date":
        return st.date_input(label, value=value, min_value=OLDEST_BIRTHDAY, max_value=date.today(), key=key)
    return st.text_input(label, value=value or "", key=key)


def custom_input(field: CustomField, value: str | None, key: str) -> Any:
    """An input for a custom field, from its stored text form."""
    label = field.label
    if field.type == "checkbox":
        return st.checkbox(label, value=value == "true", key=key)
    if field.type == "number":
        return st.number_input(label, value=float(value) if value else None, key=key, format="%g")
    if field.type == "datetime":
        moment = datetime.fromisoformat(value) if value else None
        return st.datetime_input(label, value=moment, key=key)
    if field.type == "dropdown":
        options = ["", *field.options]
        return st.selectbox(label, options, index=options.index(value) if value in options else 0, key=key)
    return st.text_input(label, value=value or "", key=key)


def custom_changed(field: CustomField, stored: str | None, entered: Any) -> bool:
    """Whether the entered value differs from the stored text form."""
    if field.type == "checkbox":
        return entered != (stored == "true")
    if field.type == "number":
        return (entered is None) != (stored is None) or (entered is not None and float(stored or 0) != entered)
    if field.type == "datetime":
        return (entered.isoformat(sep=" ") if entered else None) != stored
    return (entered or None) != stored
