"""Contacts: the navigation shell (page config, database bootstrap, `st.navigation`); pages in pages/, logic in core/.

Pages live in pages/, as Streamlit's docs lay an app out. Because this shell calls `st.navigation`,
Streamlit 1.67 does not switch to its old file-based navigation for that folder: this shell runs on
every page, and a file in pages/ that the list below does not name cannot be reached at all
(tests/pages/test_navigation.py proves it). The old sidebar of pages/ appears only in an app that
never calls `st.navigation`. Until this shell first runs in a process, though, Streamlit 1.67 can still
run a pages/ file alone for a first request; ui/shell.py says how server.py and every page close that gap.
"""

import streamlit as st

from ui.session import db
from ui.shell import shell

st.set_page_config(page_title="Contacts", page_icon=":material/contacts:", layout="wide")

db()  # open (and migrate) the database once per process before any page runs

pages = [
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/dashboard:", default=True),
    st.Page("pages/contacts.py", title="Contacts", icon=":material/group:", url_path="contacts"),
    st.Page(
        "pages/contact.py",
        title="Contact details",
        icon=":material/person:",
        url_path="contact",
        visibility="hidden",
    ),
    st.Page("pages/new_contact.py", title="New contact", icon=":material/person_add:", url_path="new"),
    st.Page("pages/segments.py", title="Segments", icon=":material/filter_alt:", url_path="segments"),
    st.Page("pages/duplicates.py", title="Duplicates", icon=":material/content_copy:", url_path="duplicates"),
    st.Page("pages/channels.py", title="Channels", icon=":material/forum:", url_path="channels"),
    st.Page("pages/import_contacts.py", title="Import", icon=":material/upload_file:", url_path="import"),
]
with shell():
    st.navigation(pages).run()
