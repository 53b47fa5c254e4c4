"""The login gate app.py runs before any page: first admin, sign-in, sign-out, idle expiry, trusted proxy header."""

import os

import duckdb
import streamlit as st

from core.accounts.sessions import resume, sign_out
from core.accounts.users import create_first_admin, needs_first_admin
from core.errors import ContactsError
from core.workspace import user_role
from ui.auth_routes import LOGIN_PATH, SESSION_COOKIE
from ui.shell import in_shell

PROXY_HEADER = "CONTACTS_TRUSTED_USER_HEADER"  # opt-in: the name of the header an authenticating proxy sets


def _from_proxy(con: duckdb.DuckDBPyConnection) -> str | None:
    header = os.environ.get(PROXY_HEADER, "").strip()
    if not header:
        return None
    named = (st.context.headers.get(header) or "").strip().lower()
    return named if named and user_role(con, named) else None


def _first_admin_form(con: duckdb.DuckDBPyConnection) -> None:
    st.title("Set up Contacts")
    st.write("This workspace has no admin yet. Create the first one; they add everyone else in Settings.")
    with st.form("first-admin"):
        user_id = st.text_input("User name", value="admin")
        name = st.text_input("Full name")
        password = st.text_input("Password (at least 10 characters)", type="password")
        again = st.text_input("Password again", type="password")
        if st.form_submit_button("Create the admin", type="primary"):
            try:
                if password != again:
                    raise ContactsError("The two passwords differ.", field="password")
                create_first_admin(con, user_id.strip().lower(), name or user_id, password)
                st.success("Done.")
                st.html(f'<a href="{LOGIN_PATH}" target="_self">Sign in now</a>.')
            except ContactsError as error:
                st.error(error.message)


def _sign_in_link() -> None:
    """Not signed in: send the browser to the sign-in form (ui/auth_routes.py), which sets the session cookie."""
    st.title("Sign in to Contacts")
    st.html(f'<a href="{LOGIN_PATH}" target="_self">Sign in</a> to use Contacts.')
    # Go there at once; the link stays for a browser that blocks the script.
    st.html(f"<script>window.location.replace({LOGIN_PATH!r});</script>", unsafe_allow_javascript=True)


def session_token() -> str | None:
    """The browser's session token: its cookie (set by POST /api/login), else one this session holds (tests)."""
    cookie = st.context.cookies.get(SESSION_COOKIE)
    return cookie if isinstance(cookie, str) and cookie else st.session_state.get("session_token")


def login_gate(con: duckdb.DuckDBPyConnection) -> str:
    """The signed-in user; otherwise show the first-admin or sign-in form and stop the run."""
    signed_in = _from_proxy(con) or resume(con, session_token())
    if signed_in:
        st.session_state["signed_in_user"] = signed_in
        return signed_in
    st.session_state.pop("signed_in_user", None)
    if needs_first_admin(con):
        _first_admin_form(con)
    else:
        _sign_in_link()
    st.stop()
    raise AssertionError("unreachable")


def require_session(con: duckdb.DuckDBPyConnection) -> None:
    """First line of a fragment: its rerun alone skips app.py's gate, so check the session is still the same user's
    (not signed out, expired or deactivated); otherwise rerun the whole app, whose gate asks to sign in."""
    if in_shell():
        return
    signed_in = st.session_state.get("signed_in_user")
    if not signed_in or (_from_proxy(con) or resume(con, session_token())) != signed_in:
        st.rerun()


def sign_out_button(con: duckdb.DuckDBPyConnection, user_id: str) -> None:
    """The sidebar's 'signed in as' line and sign-out button."""
    st.sidebar.caption(f"Signed in as **{user_id}** ({user_role(con, user_id)})")
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        sign_out(con, session_token())  # the cookie's session ends here; /api/logout then clears the cookie
        st.session_state.pop("session_token", None)
        st.session_state.pop("signed_in_user", None)
        st.html('<script>window.location.replace("/api/logout");</script>', unsafe_allow_javascript=True)
        st.stop()
