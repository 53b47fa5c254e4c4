"""Pages run inside app.py's shell, never alone, even on the first request after a start.

Streamlit 1.67 decides once per process, when its first session starts, whether a pages/ folder beside
the main script means its old file-based navigation. `st.navigation` turns that off, but only once
app.py has run: until then, a first request for `/<file name>` runs pages/<file name>.py by itself,
without the shell (seen on a fresh `streamlit run app.py`). `make run`'s server.py pins the new
navigation before any session starts; every page also calls `require_shell()` first, so a page that
Streamlit started without the shell reruns through it (or, when it cannot, shows nothing).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

_inside = threading.local()  # script runs are threads: the flag is this run's own


def pin_navigation() -> bool:
    """Turn off the folder-based navigation for this process; True if it was on."""
    was_on = bool(PagesManager.uses_pages_directory)
    PagesManager.uses_pages_directory = False
    return was_on


@contextmanager
def shell() -> Iterator[None]:
    """The block in which app.py runs the page that `st.navigation` chose."""
    _inside.running = True
    try:
        yield
    finally:
        _inside.running = False


def require_shell() -> None:
    """First line of every page: run only inside the shell."""
    if getattr(_inside, "running", False):
        return
    if pin_navigation():
        st.rerun()  # the rerun goes through app.py, which serves the same address properly
    st.info("This page opens from the app's menu.")
    st.page_link("app.py", label="Open Contacts", icon=":material/group:")
    st.stop()
