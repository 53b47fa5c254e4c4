"""The Export control of the contacts list: the current view as CSV, XLSX or Parquet."""

import duckdb
import streamlit as st

from core.exporting import FORMATS, export_view
from core.views.queries import ListView

_MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def export_control(con: duckdb.DuckDBPyConnection, view: ListView, user: str, total: int) -> None:
    """A popover that writes the whole view (every page) on request and offers it for download."""
    with st.popover("Export", icon=":material/download:"):
        fmt = st.radio("Format", FORMATS, format_func=str.upper, horizontal=True, key="export_format")
        # Writing a million rows takes seconds: only on request, and kept while the view stays the same.
        wanted = (view.model_dump_json(exclude={"page", "page_size", "columns"}), fmt)
        if st.button(f"Prepare {total:,} contact{'' if total == 1 else 's'}", key="export_prepare"):
            st.session_state.export_file = (wanted, export_view(con, view, user, fmt))
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
