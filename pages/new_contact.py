"""New contact (admin): names optional, at least one of email, phone or contact ID."""

import streamlit as st

from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.errors import ContactsError
from ui.cache import lead_stages, owners, tag_names
from ui.field_widgets import field_error
from ui.session import db, is_admin, user
from ui.shell import require_shell

require_shell()

# Cached (ui/cache.py): lead stages and owners until the next workspace write; tag names until the next write.

con, me = db(), user()
st.title("Create a new contact")
if not is_admin(con):
    st.warning("Only admins can create contacts.", icon=":material/lock:")
    st.stop()

stages, owner_names = lead_stages(con), owners(con)
with st.form("new_contact"):
    field_error("_form")
    names = st.columns(2)
    first_name = names[0].text_input("First name (optional)")
    last_name = names[1].text_input("Last name (optional)")
    st.caption("Enter at least one of email, phone number or contact ID.")
    email = st.text_input("Email", placeholder="name@example.com")
    field_error("email")
    phone = st.text_input("Phone", placeholder="+1 415 555 0132")
    field_error("phone")
    contact_id = st.text_input("Contact ID", placeholder="Left empty, one is generated")
    field_error("contact_id")
    more = st.columns(2)
    stage = more[0].selectbox("Lead stage", stages, index=stages.index("Contact") if "Contact" in stages else 0)
    owner = more[1].selectbox("Owner", ["", *owner_names], format_func=lambda o: owner_names.get(o, "Unassigned"))
    tags = st.multiselect("Tags", tag_names(con), accept_new_options=True)
    create = st.form_submit_button("Create a contact", type="primary", icon=":material/person_add:")

if create:
    try:
        contact = create_contact(
            con,
            ContactInput(
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                contact_id=contact_id,
                lead_stage=stage,
                owner_id=owner or None,
                tags=tags,
            ),
            actor=me,
        )
    except ContactsError as error:
        st.session_state.field_error = (error.field or "_form", error.message)
        st.rerun()
    st.session_state.pop("field_error", None)
    st.switch_page("pages/contact.py", query_params={"id": contact.contact_id})
