"""Channels (admin): how events reach the app, recent ingest runs with their counts, and a file upload."""

import duckdb
import streamlit as st

from core.channels.ingest import MAX_UPLOAD_BYTES, MAX_UPLOAD_LINES, ingest_lines, upload_lines
from core.channels.reading import recent_ingest_runs
from core.config import ingest_token_path
from core.errors import ContactsError
from ui.session import db, is_admin, user
from ui.shell import require_shell
from ui.widgets import for_display, show_error

require_shell()

# Cached: nothing; the ingest history is one small query. An ingest moves the contacts stamp (core/stamps.py).
con, me = db(), user()
st.title("Channels")
if not is_admin(con):
    st.error("Only an admin can see the channels' ingest history.", icon=":material/lock:")
    st.stop()

# --- How events arrive: the running app's endpoint ---
st.markdown(
    "Web Chat and Inbox send their events to this app as JSON lines: "
    "`POST /api/ingest` with `Authorization: Bearer <token>`. The token is `$CONTACTS_INGEST_TOKEN`, "
    f"else the one kept in `{ingest_token_path().name}` beside the database. From a shell: "
    "`python -m core ingest EVENTS.jsonl --url http://localhost:8501`."
)

# --- Send a file by hand ---
with st.form("upload", clear_on_submit=True):
    upload = st.file_uploader(
        "Ingest a JSON-lines file of events",
        type=["jsonl", "ndjson", "json", "txt"],
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
        help=f"Up to {MAX_UPLOAD_BYTES // 2**20} MB and {MAX_UPLOAD_LINES:,} lines; "
        "bigger files with `python -m core ingest FILE --url ...`.",
    )
    st.caption(f"UTF-8 JSON lines, up to {MAX_UPLOAD_BYTES // 2**20} MB and {MAX_UPLOAD_LINES:,} lines.")
    if st.form_submit_button("Ingest", icon=":material/upload:") and upload is not None:
        try:
            lines = upload_lines(upload.getvalue())
            done = ingest_lines(con, lines, me, origin=f"upload: {upload.name}")
            st.session_state.ingest_result = done.model_dump()
        except ContactsError as error:
            show_error(error)
        except duckdb.TransactionException:
            show_error(ContactsError("Someone changed the same contacts meanwhile; nothing was applied. Try again."))
if "ingest_result" in st.session_state:
    result = st.session_state.ingest_result
    st.success(
        f"{result['created']:,} created · {result['updated']:,} updated · "
        f"{result['conversations_opened']:,} conversations opened · {result['refused_blocked']:,} refused (blocked) · "
        f"{len(result['malformed']):,} malformed",
        icon=":material/check:",
    )
    if result["malformed"]:
        st.dataframe(result["malformed"], hide_index=True, column_config={"line": "Line", "reason": "Reason"})

# --- Recent runs ---
st.subheader("Recent ingest runs")
runs = recent_ingest_runs(con, limit=100)
if runs.is_empty():
    st.caption("No events have been ingested yet.")
else:
    st.dataframe(
        for_display(runs.drop("malformed_lines", "run_id")),
        hide_index=True,
        width="stretch",
        column_config={
            "started_at": "Started",
            "finished_at": "Finished",
            "actor": "By",
            "origin": "From",
            "events": "Events",
            "created": "Created",
            "updated": "Updated",
            "conversations_opened": "Conversations opened",
            "conversations_continued": "Continued",
            "refused_blocked": "Refused (blocked)",
            "malformed": "Malformed",
        },
    )
