"""Settings (admins): custom fields, lead stages, users and the workspace; every change is logged."""

from collections.abc import Callable

import streamlit as st

from core.accounts.audit import workspace_log
from core.accounts.sessions import session_idle_minutes
from core.accounts.users import add_user, deactivate_user, list_users, reset_password, set_role
from core.contacts.validation import custom_fields, default_country
from core.errors import ContactsError
from core.workspace import (
    CUSTOM_FIELD_TYPES,
    add_lead_stage,
    custom_field_usage,
    define_custom_field,
    delete_custom_field,
    delete_lead_stage,
    lead_stages,
    option_usage,
    owners,
    rename_custom_field,
    rename_lead_stage,
    reorder_custom_fields,
    reorder_lead_stages,
    rotate_ingest_token,
    set_default_country,
    set_dropdown_options,
    set_identity_fields,
    set_session_idle_minutes,
    stage_usage,
)
from ui.backup import backup_section
from ui.session import db, is_admin, user
from ui.shell import require_shell

require_shell()

# Cached: nothing: this page makes the workspace writes and reads their effect at once. Each write here moves the
# workspace stamp (core/stamps.py), which clears the field lists, owners, stages and columns the other pages cache.
con, me = db(), user()
if not is_admin(con):
    st.error("Only admins can open Settings.")
    st.stop()


def attempt(action: Callable[[], object], done: str) -> None:
    """Run a change; say it worked or show why not."""
    try:
        action()
        st.toast(done, icon=":material/check_circle:")
        st.rerun()
    except ContactsError as error:
        st.error(error.message)


st.title("Settings")
fields_tab, stages_tab, users_tab, workspace_tab, log_tab = st.tabs(
    ["Custom fields", "Lead stages", "Users", "Workspace", "Change log"]
)

with fields_tab:
    fields = custom_fields(con)
    st.dataframe(
        [{"key": f.key, "label": f.label, "type": f.type, "options": ", ".join(f.options)} for f in fields],
        hide_index=True,
    )
    with st.form("new-field", clear_on_submit=True):
        st.subheader("New custom field")
        key = st.text_input("Key (lower-case letters, digits, underscores)")
        label = st.text_input("Label")
        kind = st.selectbox("Type", CUSTOM_FIELD_TYPES)
        options = st.text_input("Dropdown options, separated by commas")
        if st.form_submit_button("Create field", type="primary"):
            attempt(
                lambda: define_custom_field(con, key.strip(), label, kind, options.split(","), actor=me),
                f"Created {label}.",
            )
    if fields:
        chosen = st.selectbox("Field", [f.key for f in fields], format_func=lambda k: k)
        new_label = st.text_input("New label", key="field-label")
        if st.button("Rename field", disabled=not new_label.strip()):
            attempt(lambda: rename_custom_field(con, chosen, new_label, me), "Renamed.")
        field = next(f for f in fields if f.key == chosen)
        if field.type == "dropdown":
            typed_options = st.text_input("Options, separated by commas", value=", ".join(field.options))
            kept = [o.strip() for o in typed_options.split(",") if o.strip()]
            in_use = {v: n for v, n in option_usage(con, chosen).items() if v not in kept}
            mapping: dict[str, str | None] = {}
            for value, count in in_use.items():
                mapping[value] = st.selectbox(
                    f"'{value}' is used by {count:,} contacts: change them to",
                    [None, *kept],
                    format_func=lambda o: o or "(clear the value)",
                    key=f"map-{chosen}-{value}",
                )
            if st.button("Save options"):
                attempt(lambda: set_dropdown_options(con, chosen, kept, me, mapping), "Options saved.")
        st.caption(f"{custom_field_usage(con, chosen):,} contacts have a value for this field.")
        typed = st.text_input("Type the field's label to delete it (its values go with it)", key="field-delete")
        if st.button("Delete field", type="primary", disabled=not typed.strip()):
            attempt(lambda: delete_custom_field(con, chosen, typed, me), "Deleted.")

    if fields:
        order = st.multiselect("Order (pick every field, first to last)", [f.key for f in fields], key="field-order")
        if st.button("Save field order", disabled=len(order) != len(fields)):
            attempt(lambda: reorder_custom_fields(con, order, me), "Order saved.")
        identifying = [f.key for f in fields if f.type in ("text", "number")]
        identity = st.multiselect(
            "Identity fields (they identify a person for duplicates)",
            identifying,
            default=[f.key for f in fields if f.is_identity and f.key in identifying],
            key="field-identity",
        )
        if st.button("Save identity fields"):
            attempt(lambda: set_identity_fields(con, identity, me), "Identity fields saved.")

with stages_tab:
    usage = stage_usage(con)
    stages = lead_stages(con)
    st.dataframe([{"stage": s, "contacts": usage.get(s, 0)} for s in stages], hide_index=True)
    new_stage = st.text_input("New stage")
    if st.button("Add stage", disabled=not new_stage.strip()):
        attempt(lambda: add_lead_stage(con, new_stage, me), f"Added {new_stage}.")
    stage_order = st.multiselect("Order (pick every stage, first to last)", stages, key="stage-order")
    if st.button("Save stage order", disabled=len(stage_order) != len(stages)):
        attempt(lambda: reorder_lead_stages(con, stage_order, me), "Order saved.")
    stage = st.selectbox("Stage", stages)
    renamed = st.text_input("Rename to", key="stage-rename")
    if st.button("Rename stage", disabled=not renamed.strip()):
        attempt(lambda: rename_lead_stage(con, stage, renamed, me), "Renamed.")
    target = st.selectbox("Move its contacts to", [s for s in stages if s != stage], key="stage-target")
    if st.button(f"Delete stage ({usage.get(stage, 0):,} contacts move)", disabled=target is None):
        attempt(lambda: delete_lead_stage(con, stage, target, me), "Deleted.")

with users_tab:
    st.dataframe(list_users(con), hide_index=True)
    with st.form("new-user", clear_on_submit=True):
        st.subheader("Add a user")
        new_id = st.text_input("User name")
        new_name = st.text_input("Full name")
        new_role = st.selectbox("Role", ["agent", "admin"])
        new_password = st.text_input("Password (at least 10 characters)", type="password")
        if st.form_submit_button("Add user", type="primary"):
            attempt(lambda: add_user(con, new_id.strip().lower(), new_name, new_role, new_password, me), "User added.")
    people = owners(con)
    if people:
        who = st.selectbox("User", list(people), format_func=lambda u: f"{people[u]} ({u})")
        role = st.selectbox("New role", ["agent", "admin"], key="user-role")
        if st.button("Change role"):
            attempt(lambda: set_role(con, who, role, me), "Role changed.")
        password = st.text_input("New password", type="password", key="user-password")
        if st.button("Reset password", disabled=not password):
            attempt(lambda: reset_password(con, who, password, me), "Password reset.")
        heir = st.selectbox(
            "Their contacts go to", [None] + [u for u in people if u != who], format_func=lambda u: u or "nobody"
        )
        if st.button("Deactivate user"):
            attempt(lambda: deactivate_user(con, who, heir, me), "User deactivated.")

with workspace_tab:
    country = st.text_input("Default country for phone numbers (ISO code)", value=default_country(con))
    if st.button("Save country"):
        attempt(lambda: set_default_country(con, country, me), "Saved.")
    idle = st.number_input("Sign out after idle minutes", min_value=5, value=session_idle_minutes(con))
    if st.button("Save idle time"):
        attempt(lambda: set_session_idle_minutes(con, int(idle), me), "Saved.")
    if st.button("Rotate the ingest token"):
        try:
            token = rotate_ingest_token(con, me)
            st.code(token)
            st.caption("The old token is refused from now on; give channels this one.")
        except ContactsError as error:
            st.error(error.message)
    backup_section(con)

with log_tab:
    st.dataframe(workspace_log(con), hide_index=True)
