"""The Export control of the contacts list: the current view as CSV, XLSX, Parquet or vCard."""

import duckdb
import streamlit as st

from core.exporting import FORMATS, Headers, export_view
from core.views.queries import ListView

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
            st.session_state.export_file = (wanted, export_view(con, view, user, fmt, all_fields, headers))
        prepared = st.session_state.get("export_file")
        if prepared and prepared[0] == wanted:
            st.download_button(
                f"Download contacts.{fmt}",
                prepared[1],
                file_name=f"contacts.{fmt}",
                mime=_MIME[fmt],
                icon=":material/download:",
                key="export_download",
            )
