"""Contact details: every property editable, the timeline, notes, block and delete."""

from datetime import datetime

import streamlit as st

from core.contacts.fields import SYSTEM_FIELDS
from core.contacts.records import add_note, delete_contacts, find_contact, load_contacts, set_blocked, update_contact
from core.contacts.timeline import timeline
from core.duplicates import group_of, same_email_or_phone
from core.duplicates.merged_ids import merged_into
from core.errors import ContactsError, StaleContactError
from ui.cache import custom_fields, lead_stages, owners, tag_names
from ui.contact_channels import additional_channels
from ui.conversations import channels_section
from ui.field_widgets import custom_changed, custom_input, field_error, system_input
from ui.session import db, is_admin, plain, user
from ui.shell import require_shell
from ui.widgets import show_error

require_shell()

# Cached (ui/cache.py): custom fields, lead stages and owners until the next workspace write (fields, stages,
# users, settings, segments, table columns, an import); tag names until the next write of any kind.

KIND_ICONS = {
    "conversation": ":material/chat:",
    "ticket": ":material/confirmation_number:",
    "note": ":material/sticky_note_2:",
    "media": ":material/attach_file:",
    "activity": ":material/history:",
}

con, me = db(), user()
contact_id = st.query_params.get("id", "")
st.page_link("pages/contacts.py", label="Back to contacts", icon=":material/arrow_back:")
contact = find_contact(con, contact_id) if contact_id else None
merged_to = merged_into(con, [contact_id]).get(contact_id) if contact_id and contact is None else None
if merged_to:  # an old link to a merged contact: show the contact it lives in now
    st.info(f"Contact {plain(contact_id)!s} was merged into this contact.", icon=":material/merge:")
    contact_id = st.query_params["id"] = merged_to
    contact = find_contact(con, contact_id)
if contact is None:
    st.error(
        f"There is no contact {plain(contact_id)!s}; it may have been deleted."
        if contact_id
        else "Choose a contact from the list."
    )
    st.stop()

# The version this person opened: saving against it refuses to overwrite someone else's change.
opened = st.session_state.setdefault("opened_versions", {})
base_version = opened.setdefault(contact.contact_id, contact.version)

st.title(plain(contact.display_name))
badges = [f"ID {plain(contact.contact_id)}", plain(contact.lead_stage), plain(contact.source)]
if contact.name_generated:
    badges.append("generated name")
st.caption(" · ".join(badges))
if contact.blocked:
    st.warning(
        f"Blocked since {contact.blocked_on:%Y-%m-%d %H:%M}: chat and inbox events from this contact are refused.",
        icon=":material/block:",
    )
# --- Duplicates: its group from the last run, else contacts sharing its email or phone right now ---
group = group_of(con, contact.contact_id)
others = [i for i in group["contact_id"] if i != contact.contact_id] or same_email_or_phone(con, contact.contact_id)
if others:
    found = load_contacts(con, others[:5])
    named = [found[i].display_name for i in others[:5] if i in found]
    more = f" and {len(others) - len(named)} more" if len(others) > len(named) else ""
    st.warning(
        f"This contact may have {len(others)} duplicate{'' if len(others) == 1 else 's'}: "
        f"{plain(', '.join(named))}{more}.",
        icon=":material/content_copy:",
    )
    st.page_link(
        "pages/duplicates.py",
        label="Review and merge" if not group.is_empty() else "Find duplicates",
        icon=":material/merge:",
        query_params={"group": group["group_id"][0]} if not group.is_empty() else {"contact": contact.contact_id},
    )
if contact.version != base_version:
    st.warning("Someone changed this contact since you opened it.", icon=":material/sync_problem:")
    if st.button("Reload to see their changes"):
        opened[contact.contact_id] = contact.version
        st.session_state.pop("field_error", None)
        st.rerun()

left, right = st.columns([3, 2], gap="large")

# --- Contact property: every field, validated by core, errors shown at the field ---
with left, st.form("properties", border=True):
    st.subheader("Contact property")
    field_error("_form")
    stages, owner_names, tags = lead_stages(con), owners(con), tag_names(con)
    entered, key_prefix = {}, f"{contact.contact_id}:{base_version}"
    current = contact.model_dump()
    for section in dict.fromkeys(field.group for field in SYSTEM_FIELDS):
        st.markdown(f"**{section}**")
        grid = st.columns(2)
        for index, field in enumerate(f for f in SYSTEM_FIELDS if f.group == section):
            with grid[index % 2]:
                if field.editable:
                    entered[field.key] = system_input(
                        field, current[field.key], f"{key_prefix}:{field.key}", stages, owner_names, tags
                    )
                else:
                    shown = current[field.key]
                    st.text_input(
                        field.label,
                        value="" if shown is None else str(shown),
                        disabled=True,
                        key=f"{key_prefix}:{field.key}",
                    )
                field_error(field.key)
    definitions = custom_fields(con)
    if definitions:
        st.markdown("**Custom fields**")
        grid = st.columns(2)
        for index, definition in enumerate(definitions):
            with grid[index % 2]:
                entered[f"custom.{definition.key}"] = custom_input(
                    definition, contact.custom.get(definition.key), f"{key_prefix}:custom.{definition.key}"
                )
                field_error(f"custom.{definition.key}")
    save = st.form_submit_button("Save changes", type="primary", icon=":material/save:")

with left:
    additional_channels(con, contact, opened)  # other emails and phones, saved on their own

if save:
    changes = {
        key: value
        for key, value in entered.items()
        if not key.startswith("custom.") and (value or None) != (current[key] or None)
    }
    for definition in definitions:
        value = entered[f"custom.{definition.key}"]
        if custom_changed(definition, contact.custom.get(definition.key), value):
            changes[f"custom.{definition.key}"] = value.isoformat(sep=" ") if isinstance(value, datetime) else value
    try:
        saved = update_contact(con, contact.contact_id, changes, base_version, me)
        opened[contact.contact_id] = saved.version
        st.session_state.pop("field_error", None)
        st.toast("Saved." if changes else "Nothing to save.", icon=":material/check:")
    except StaleContactError as error:
        st.session_state.field_error = ("_form", error.message)
    except ContactsError as error:
        st.session_state.field_error = (error.field or "_form", error.message)
    st.rerun()


def block(contact_id: str, seen_version: int, blocked: bool) -> None:
    """Block or unblock from this page (a button callback: one run, not two). Our own change, so when the form
    was current it stays current and the next Save goes through; someone else's change stays flagged."""
    cursor = db()
    set_blocked(cursor, [contact_id], blocked, user())
    after = find_contact(cursor, contact_id)
    versions = st.session_state["opened_versions"]
    if after is not None and versions.get(contact_id) == seen_version and after.version == seen_version + 1:
        versions[contact_id] = after.version


with right:
    # --- Block, notes and the timeline ---
    blocking = not contact.blocked
    st.button(
        "Block contact" if blocking else "Unblock contact",
        icon=":material/block:" if blocking else ":material/lock_open:",
        on_click=block,
        args=(contact.contact_id, contact.version, blocking),
    )

    with st.form("note", clear_on_submit=True):
        note = st.text_area("Add a note", placeholder="What happened, what to do next…")
        if st.form_submit_button("Add note", icon=":material/add_comment:"):
            try:
                add_note(con, contact.contact_id, note, me)
                st.rerun()
            except ContactsError as error:
                show_error(error)

    st.subheader("Timeline")
    entries = timeline(con, contact.contact_id, limit=200)
    if entries.is_empty():
        st.caption("Nothing has happened yet.")
    for entry in entries.iter_rows(named=True):
        with st.container(border=True):
            st.markdown(
                f"{KIND_ICONS[entry['kind']]} **{plain(entry['title'])}**  \n{entry['happened_at']:%Y-%m-%d %H:%M}"
            )
            if entry["detail"]:
                st.text(entry["detail"])

    if is_admin(con):
        with st.expander("Delete contact", icon=":material/delete:"):
            st.write(
                "Deleting removes this contact and everything that belongs to it: conversations, "
                "tickets, notes, media and activity. This cannot be undone."
            )
            typed = st.text_input("Type 1 to confirm", key=f"confirm_delete:{contact.contact_id}")
            if st.button("Delete contact", type="primary", disabled=typed.strip() != "1"):
                try:
                    delete_contacts(con, [contact.contact_id], me, typed)
                    st.switch_page("pages/contacts.py")
                except ContactsError as error:
                    show_error(error)

# --- Channels, full width: the identities this contact writes from and every conversation they brought ---
channels_section(con, contact)
