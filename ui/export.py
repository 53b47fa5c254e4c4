"""The Export control of the contacts list: the current view as CSV, XLSX, Parquet or vCard."""

import os
import tempfile
from pathlib import Path

import duckdb
import streamlit as st

from core.exporting import FORMATS, ExportFormat, Headers, export_view
from core.jobs import Progress
from core.views.queries import ListView
from ui.jobs import in_background, show_job, start

EXPORT_JOB = "export"  # a large view is written by a background job of kind "export:<user>" (ui/jobs.py)

_MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "vcf": "text/vcard",
}
_FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet", "vcf": "vCard"}


def export_control(con: duckdb.DuckDBPyConnection, view: ListView, user: str, total: int) -> None:
    """A popover that writes the whole view (every page) on request and offers it for download."""
    with st.popover("Export", icon=":material/download:"):
        fmt = st.radio("Format", FORMATS, format_func=_FORMAT_NAMES.get, horizontal=True, key="export_format")
        tabular = fmt in ("csv", "xlsx")
        all_fields = st.toggle(
            "All fields", key="export_all_fields", disabled=not tabular, help="Off: the columns the table shows."
        )
        keys = st.toggle(
            "Field keys as headers", key="export_keys", disabled=not tabular, help="For other programs; off: labels."
        )
        headers: Headers = "keys" if keys else "labels"
        # Writing a million rows takes seconds: only on request, and kept while the view stays the same.
        wanted = (view.model_dump_json(exclude={"page", "page_size"}), fmt, all_fields, headers)
        if st.button(f"Prepare {total:,} contact{'' if total == 1 else 's'}", key="export_prepare"):
            if in_background(total):
                _prepare_in_background(view, user, fmt, all_fields, headers, wanted)
            else:
                st.session_state.export_file = (wanted, export_view(con, view, user, fmt, all_fields, headers))
        job = show_job(f"{EXPORT_JOB}:{user}")
        prepared = st.session_state.get("export_file")
        if job is not None and job.state == "done" and job.result and tuple(job.result["wanted"]) == wanted:
            if not (prepared and prepared[0] == wanted):  # read the job's file once per session
                prepared = st.session_state.export_file = (wanted, Path(job.result["path"]).read_bytes())
        if prepared and prepared[0] == wanted:
            st.download_button(
                f"Download contacts.{fmt}",
                prepared[1],
                file_name=f"contacts.{fmt}",
                mime=_MIME[fmt],
                icon=":material/download:",
                key="export_download",
            )


def _prepare_in_background(
    view: ListView, user: str, fmt: ExportFormat, all_fields: bool, headers: Headers, wanted: tuple[object, ...]
) -> None:
    """Write a large view to a private temporary file in a background job; its result names the file."""

    def work(job_con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, object]:
        progress(0.05, "Writing the file…")
        data = export_view(job_con, view, user, fmt, all_fields, headers)  # checks, as `user`, that they may export
        handle, path = tempfile.mkstemp(prefix="contacts-export-", suffix=f".{fmt}")  # 0600: only this process
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return {"path": path, "wanted": list(wanted), "bytes": len(data)}

    start(f"{EXPORT_JOB}:{user}", "contacts.export", work)
    st.session_state.pop("export_file", None)
