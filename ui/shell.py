"""Pages run inside app.py's shell, never alone, even on the first request after a start.

Streamlit 1.67 decides once per process, when its first session starts, whether a pages/ folder beside
the main script means its old file-based navigation. `st.navigation` turns that off, but only once
app.py has run: until then, a first request for `/<file name>` runs pages/<file name>.py by itself,
without the shell (seen on a fresh `streamlit run app.py`). `make run`'s server.py pins the new
navigation before any session starts; every page also calls `require_shell()` first, so a page that
Streamlit started without the shell reruns through it (or, when it cannot, shows nothing).
"""

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.db.connection import is_lock_wait

_inside = threading.local()  # script runs are threads: the flag is this run's own
_freezing = threading.Lock()
_modules_frozen = 0  # how many modules were loaded at the last freeze


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
        with lock_waits_told("page"):
            yield
    finally:
        _inside.running = False
        freeze_after_imports()


@contextmanager
def lock_waits_told(where: str) -> Iterator[None]:
    """A block whose statement waited past its lock timeout for a table a large import holds (PostgreSQL: a first
    import locks contacts and the search tables until its commit, core.db.bulk) says so instead of showing a
    traceback, with a button that runs the page again. Around the page (shell) and every fragment that reads
    contacts: a fragment's own rerun shows its errors itself, never through app.py. `where` keys the button."""
    try:
        yield
    except Exception as error:
        if not is_lock_wait(error):
            raise
        st.warning(
            "The contacts are busy: a large import is writing them. This page will be back as soon as it ends.",
            icon=":material/hourglass_top:",
        )
        st.button("Try again", icon=":material/refresh:", key=f"lock_wait_retry_{where}")


def in_shell() -> bool:
    """Whether this script run goes through app.py (False in a fragment's rerun of its own)."""
    return bool(getattr(_inside, "running", False))


def freeze_after_imports() -> None:
    """After a run that loaded modules, keep what is alive now out of the garbage collector's full passes.

    Modules and their tables (Plotly's validators, phonenumbers' metadata, pandas...) are 160,000 objects that
    live as long as the process; a full collection walks them all, 110-150 ms of CPU each time. Frozen, they
    are never walked again; the few runs that load new modules (a page's first visit) pay one collection.
    Streamlit's own collection after every run is off (.streamlit/config.toml, runner.postScriptGC).
    """
    global _modules_frozen
    if len(sys.modules) <= _modules_frozen:
        return
    with _freezing:
        loaded = len(sys.modules)
        if loaded > _modules_frozen:
            gc.collect()
            gc.freeze()
            _modules_frozen = loaded


def require_shell() -> None:
    """First line of every page: run only inside the shell."""
    if in_shell():
        return
    if pin_navigation():
        st.rerun()  # the rerun goes through app.py, which serves the same address properly
    st.info("This page opens from the app's menu.")
    st.page_link("app.py", label="Open Contacts", icon=":material/group:")
    st.stop()
