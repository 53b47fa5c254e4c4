"""Background jobs on a page: start one as the signed-in user, show its progress while it runs, its end after.

Progress is a fragment that reruns every second and reads the job's row (core/jobs.py), so the rest of the page
does not rerun while a job works; when the job ends it reruns the whole page once, which then shows the result.
A reload finds the job again: the page asks for the latest job of its kind, not for anything in the session.
"""

from collections.abc import Callable
from datetime import timedelta

import streamlit as st

from core.contacts.activity import now
from core.jobs import Job, Work, get_job, latest_job, start_job
from ui.session import db, plain, user

# Work over fewer contacts than this runs at once, in the script run (simple, and tests see its result at once);
# from this size it runs as a background job.
BACKGROUND_FROM = 10_000
POLL_EVERY = timedelta(seconds=1)
SHOW_DONE_FOR = timedelta(minutes=10)  # how long a finished job's result stays on its page


def in_background(contacts: int) -> bool:
    """Whether work over this many contacts should run as a background job."""
    return contacts >= BACKGROUND_FROM


def start(kind: str, action: str, work: Work, message: str = "Starting…") -> Job:
    """Start a background job of a kind as the signed-in user (refused, PermissionDenied, without `action`),
    showing `message` until the work reports its progress."""
    return start_job(db(), kind, user(), action, work, message)


def show_job(
    kind: str,
    started_by: str | None = None,
    on_finish: Callable[[Job], None] | None = None,
    done_message: Callable[[Job], str] | None = None,
) -> Job | None:
    """The latest job of a kind: its progress while it runs (polled), a warning if it failed or was cut short.

    `on_finish` runs once, in the page run that follows the end of a job this session saw running.
    `done_message` says what a finished job did; it shows for SHOW_DONE_FOR after the end, reloads included.
    """
    job = latest_job(db(), kind, started_by)
    if job is None:
        return None
    seen_key = f"job-seen-{kind}"
    if job.active:
        st.session_state[seen_key] = job.job_id
        _progress(job.job_id)
    else:
        if st.session_state.pop(seen_key, None) == job.job_id and on_finish is not None:
            on_finish(job)
        recent = job.finished_at is not None and now() - job.finished_at < SHOW_DONE_FOR
        if job.state == "done" and done_message is not None and recent:
            st.success(plain(done_message(job)), icon=":material/check_circle:")
        elif job.state == "interrupted":
            st.warning(plain(job.message), icon=":material/warning:")
        elif job.state == "failed":
            st.error(plain(job.message), icon=":material/error:")
    return job


@st.fragment(run_every=POLL_EVERY)
def _progress(job_id: int) -> None:
    job = get_job(db(), job_id)
    if job is None or not job.active:
        st.rerun()  # the whole page: it now shows the job's result
    started = job.started_at or job.created_at
    seconds = (now() - started).total_seconds()
    st.progress(
        job.progress,
        text=f"{plain(job.message)} · started by {plain(job.actor)} {seconds:.0f} s ago. "
        "You can leave this page: the work goes on, and the page shows it again.",
    )
