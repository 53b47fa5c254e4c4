"""Contacts: the navigation shell; pages live in app_pages/, logic in core/.

The folder is not called pages/: with a pages/ folder beside it, Streamlit runs its old
file-based navigation and never runs this shell.
"""

import streamlit as st

from ui.session import db

st.set_page_config(page_title="Contacts", page_icon=":material/contacts:", layout="wide")

db()  # open (and migrate) the database once per process before any page runs

pages = [
    st.Page("app_pages/contacts.py", title="Contacts", icon=":material/group:", default=True),
    st.Page(
        "app_pages/contact.py",
        title="Contact details",
        icon=":material/person:",
        url_path="contact",
        visibility="hidden",
    ),
    st.Page("app_pages/new_contact.py", title="New contact", icon=":material/person_add:", url_path="new"),
    st.Page("app_pages/segments.py", title="Segments", icon=":material/filter_alt:", url_path="segments"),
    st.Page("app_pages/duplicates.py", title="Duplicates", icon=":material/content_copy:", url_path="duplicates"),
    st.Page("app_pages/ingest.py", title="Channels", icon=":material/forum:", url_path="channels"),
    st.Page("app_pages/import_contacts.py", title="Import", icon=":material/upload_file:", url_path="import"),
]
st.navigation(pages).run()
