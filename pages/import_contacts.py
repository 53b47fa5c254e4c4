"""Import contacts (admin): upload, map columns, choose how updates work, dry run, then commit."""

import duckdb
import streamlit as st

from core.errors import ContactsError
from core.importer import MAX_FILE_BYTES, MAX_ROWS, commit_import, import_history, plan_import, sample_file
from ui.importer import (
    PLAN_KEY,
    current_table,
    encoding_picker,
    for_history,
    mapping_editor,
    options_form,
    reading_choices,
    remember_upload,
    show_plan,
)
from ui.importer_jobs import import_in_progress, start_import_job
from ui.jobs import in_background
from ui.session import db, is_admin, user
from ui.shell import require_shell
from ui.widgets import for_display, show_error

require_shell()

# Cached: the uploaded file and the dry run's plan, in the session (ui/importer.py) until another file or mapping;
# a commit moves the workspace stamp (core/stamps.py: it may create fields), which clears the other pages' lists.
con, me = db(), user()
st.title("Import contacts")
if not is_admin(con):
    st.error("Only an admin can import contacts.", icon=":material/lock:")
    st.stop()
# An import of 10,000 contacts or more runs as a background job: its progress, then its outcome, even after a reload.
importing = import_in_progress()

# --- The file ---
st.caption(
    f"CSV (any common delimiter and encoding), XLSX or vCard, up to {MAX_ROWS:,} rows and {MAX_FILE_BYTES // 2**20} MB."
)
st.download_button(
    "Download a sample file",
    sample_file(con),
    file_name="contacts-sample.csv",
    mime="text/csv",
    icon=":material/description:",
)
upload = st.file_uploader(
    "CSV, XLSX or vCard file",
    type=["csv", "tsv", "txt", "xlsx", "vcf"],
    key="import_upload",
    max_upload_size=MAX_FILE_BYTES // 2**20,
    help=f"Up to {MAX_ROWS:,} rows and {MAX_FILE_BYTES // 2**20} MB.",
)
if upload is not None:
    remember_upload(upload.name, upload.getvalue(), st.session_state.get("import_encoding_choice"))
if st.session_state.get("import_error"):
    st.error(st.session_state.import_error, icon=":material/error:")
table = current_table()

if table is not None:
    st.subheader(f"{table.file_name}: {table.row_count:,} rows, {len(table.headers)} columns")
    st.caption(
        f"Read as {table.kind.upper()}"
        + (f", {table.encoding}, delimiter {table.delimiter!r}" if table.kind == "csv" else "")
    )
    chosen_encoding = encoding_picker(table)
    if upload is not None and chosen_encoding != st.session_state.get("import_encoding_choice"):
        st.session_state.import_encoding_choice = chosen_encoding
        remember_upload(upload.name, upload.getvalue(), chosen_encoding)
        st.rerun()

    # --- Mapping and options ---
    st.markdown("**Which field each column fills**")
    mapping = mapping_editor(con, table)
    options = options_form(con, mapping, reading_choices(con, table, mapping))

    # --- Dry run ---
    if st.button("Dry run", type="primary", icon=":material/fact_check:"):
        try:
            with st.spinner("Checking every row…"):
                st.session_state[PLAN_KEY] = plan_import(con, table, options)
        except ContactsError as error:
            st.session_state.pop(PLAN_KEY, None)
            show_error(error)
    plan = st.session_state.get(PLAN_KEY)
    if plan is not None and plan.options != options:
        st.info("The mapping or options changed since the dry run: run it again.", icon=":material/refresh:")
        plan = None
    if plan is not None:
        show_plan(plan)
        counts = plan.counts()
        if counts["created"] + counts["updated"] == 0:
            st.caption("Nothing to import.")
        elif st.button(
            f"Import: create {counts['created']:,}, update {counts['updated']:,}",
            icon=":material/upload:",
            disabled=importing,
        ):
            if in_background(counts["created"] + counts["updated"]):
                start_import_job(plan, me)  # a large import runs as a background job, shown below
                st.session_state.pop(PLAN_KEY, None)
                st.rerun()
            bar = st.progress(0.0, text="Starting")

            def report(fraction: float, text: str) -> None:
                bar.progress(fraction, text=text)

            try:
                done = commit_import(con, plan, me, progress=report)
                st.session_state.pop(PLAN_KEY, None)
                st.session_state.import_done = done.model_dump()
                st.rerun()
            except duckdb.TransactionException:
                show_error(
                    ContactsError(
                        "Someone changed the same contacts meanwhile; nothing was imported. Run the dry run again."
                    )
                )

if "import_done" in st.session_state:
    done = st.session_state.import_done
    st.success(
        f"Imported: {done['created']:,} created · {done['updated']:,} updated · {done['skipped']:,} skipped · "
        f"{done['rejected']:,} rejected",
        icon=":material/check:",
    )

# --- History ---
st.subheader("Import history")
history = import_history(con)
if history.is_empty():
    st.caption("Nothing has been imported yet.")
else:
    st.dataframe(
        for_display(for_history(history)),
        hide_index=True,
        width="stretch",
        column_config={
            "imported_at": "When",
            "actor": "By",
            "file_name": "File",
            "mode": "Mode",
            "total_rows": "Rows",
            "created": "Created",
            "updated": "Updated",
            "skipped": "Skipped",
            "rejected": "Rejected",
        },
    )
