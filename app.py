"""Contacts: the frame (page config, login gate, database bootstrap, `st.navigation` by role); pages in pages/.

Pages live in pages/; because this shell calls `st.navigation`, a file in pages/ that the list below does
not name cannot be reached at all, so an agent's menu (and any address they type) holds only their pages.
ui/shell.py says how server.py and every page keep pages from running without this shell.
"""

import streamlit as st

from ui.login import login_gate, sign_out_button
from ui.session import db, is_admin
from ui.shell import shell

st.set_page_config(page_title="Contacts", page_icon=":material/contacts:", layout="wide")

con = db()  # open (and migrate) the database once per process before any page runs
signed_in = login_gate(con)
sign_out_button(con, signed_in)

ADMIN_ONLY = {"new", "duplicates", "channels", "import", "settings"}  # url paths only admins may open
pages = [
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/dashboard:", default=True),
    st.Page("pages/contacts.py", title="Contacts", icon=":material/group:", url_path="contacts"),
    st.Page("pages/new_contact.py", title="New contact", icon=":material/person_add:", url_path="new"),
    st.Page(
        "pages/contact.py",
        title="Contact details",
        icon=":material/person:",
        url_path="contact",
        visibility="hidden",
    ),
    st.Page("pages/segments.py", title="Segments", icon=":material/filter_alt:", url_path="segments"),
    st.Page("pages/duplicates.py", title="Duplicates", icon=":material/content_copy:", url_path="duplicates"),
    st.Page("pages/channels.py", title="Channels", icon=":material/forum:", url_path="channels"),
    st.Page("pages/import_contacts.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
]


def _refused(title: str, path: str) -> st.Page:
    """What an agent gets at an admin page's address: not in the menu, one line saying why."""

    def refuse() -> None:
        st.error(f"Only admins can use {title}.", icon=":material/block:")

    return st.Page(refuse, title=title, url_path=path, visibility="hidden")


if not is_admin(con):
    pages = [_refused(str(page.title), page.url_path) if page.url_path in ADMIN_ONLY else page for page in pages]
with shell():
    st.navigation(pages).run()
