"""Contacts: the navigation shell. Pages live in pages/, logic in core/."""

import streamlit as st

from ui.session import db

st.set_page_config(page_title="Contacts", page_icon=":material/contacts:", layout="wide")

db()  # open (and migrate) the database once per process before any page runs

pages = [
    st.Page("pages/contacts.py", title="Contacts", icon=":material/group:", url_path="contacts", default=True),
    st.Page(
        "pages/contact.py", title="Contact details", icon=":material/person:", url_path="contact", visibility="hidden"
    ),
    st.Page("pages/new_contact.py", title="New contact", icon=":material/person_add:", url_path="new"),
]
st.navigation(pages).run()
