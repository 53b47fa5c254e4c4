"""The import page's widgets: the kept upload, the mapping table, the options, the dry-run summary."""

import hashlib

import duckdb
import polars as pl
import streamlit as st

from core.errors import ContactsError
from core.importer import ImportOptions, ImportPlan, RawTable, auto_map, mapping_targets, read_table
from core.importer.commit import rejected_csv
from core.importer.planning import Mode, Rule
from core.workspace import owners, tag_names

TABLE_KEY, PLAN_KEY = "import_table", "import_plan"
NEW_FIELD = "__new__"
MODES: dict[Mode, str] = {"upsert": "Create and update", "create": "Create only", "update": "Update only"}
RULES: dict[Rule, str] = {"overwrite": "Overwrite", "fill": "Fill only if blank", "append": "Append"}


def remember_upload(file_name: str, data: bytes) -> None:
    """Read an upload once and keep it for the session (a rerun must not parse 200 MB again)."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest() + file_name
    if st.session_state.get("import_digest") == digest:
        return
    st.session_state.import_digest = digest
    st.session_state.pop(PLAN_KEY, None)
    st.session_state.pop("import_done", None)
    st.session_state.pop(TABLE_KEY, None)
    try:
        st.session_state[TABLE_KEY] = read_table(file_name, data)
    except ContactsError as error:
        st.session_state.import_error = error.message
        return
    st.session_state.pop("import_error", None)


def current_table() -> RawTable | None:
    """The upload being imported, if any."""
    return st.session_state.get(TABLE_KEY)


def mapping_editor(con: duckdb.DuckDBPyConnection, table: RawTable) -> dict[str, str]:
    """One select per column, preset by auto-mapping; returns {column: target}."""
    targets = mapping_targets(con)
    options = [*targets, NEW_FIELD]
    labels = targets | {NEW_FIELD: "New custom field (text)"}
    suggested = auto_map(con, table.headers)
    sample = table.frame.head(3)
    mapping = {}
    grid = st.columns(3)
    for index, column in enumerate(table.headers):
        examples = ", ".join(str(v)[:30] for v in sample[column].to_list() if v)
        with grid[index % 3]:
            chosen = st.selectbox(
                column,
                options,
                index=options.index(suggested[column]),
                format_func=labels.__getitem__,
                key=f"map:{column}",
                help=f"Examples: {examples}" if examples else "Empty in the first rows",
            )
        mapping[column] = f"new:{column}" if chosen == NEW_FIELD else chosen
    return mapping


def options_form(con: duckdb.DuckDBPyConnection, mapping: dict[str, str]) -> ImportOptions:
    """Mode, the update rule per mapped field, tags and owner for every row."""
    left, middle, right = st.columns(3)
    mode = left.radio("Mode", list(MODES), format_func=MODES.__getitem__, key="import_mode")
    tags = middle.multiselect("Tags for every imported row", tag_names(con), accept_new_options=True, key="import_tags")
    people = owners(con)
    owner = right.selectbox(
        "Owner for every imported row",
        [None, *people],
        key="import_owner",
        format_func=lambda o: "(keep / none)" if o is None else people[o],
    )
    rules: dict[str, Rule] = {}
    if mode != "create":
        with st.expander("What an update does to a value that is already there"):
            for target in sorted({t for t in mapping.values() if t and not t.startswith("new:")}):
                rules[target] = st.selectbox(
                    target,
                    list(RULES),
                    format_func=RULES.__getitem__,
                    index=2 if target == "tags" else 0,
                    key=f"rule:{target}",
                )
    return ImportOptions(mode=mode, mapping=mapping, rules=rules, tags=tags, owner_id=owner)


def show_plan(plan: ImportPlan) -> None:
    """The dry run's counts and the rejected rows with their line and reason."""
    counts = plan.counts()
    cells = st.columns(4)
    for cell, (name, value) in zip(cells, counts.items(), strict=True):
        cell.metric(name.capitalize(), f"{value:,}")
    if counts["rejected"]:
        st.dataframe(
            plan.errors.head(1000),
            hide_index=True,
            width="stretch",
            column_config={"line": "Line", "column": "Column", "reason": "Reason"},
        )
        st.download_button(
            "Download rejected rows (CSV)",
            rejected_csv(plan),  # formulas neutralised, as every CSV the app writes
            file_name=f"rejected-{plan.file_name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            icon=":material/download:",
        )


def for_history(history: pl.DataFrame) -> pl.DataFrame:
    """The import history with readable modes."""
    return history.with_columns(pl.col("mode").replace(MODES))
