"""The import page's widgets: the kept upload, the mapping table, the options, the dry-run summary."""

import hashlib

import duckdb
import polars as pl
import streamlit as st

from core.contacts.validation import custom_fields, default_country
from core.errors import ContactsError
from core.importer import ImportOptions, ImportPlan, RawTable, auto_map, mapping_targets, read_table
from core.importer.commit import problems_csv
from core.importer.dates import DAY_FIRST, MONTH_FIRST, date_column_reading, default_order
from core.importer.mapping import NOTE
from core.importer.planning import Mode, Rule
from core.importer.reading import CELLS
from core.workspace import owners, tag_names

TABLE_KEY, PLAN_KEY = "import_table", "import_plan"
NEW_FIELD = "__new__"
MODES: dict[Mode, str] = {"upsert": "Create and update", "create": "Create only", "update": "Update only"}
RULES: dict[Rule, str] = {"overwrite": "Overwrite", "fill": "Fill only if blank", "append": "Append"}
ENCODINGS = (
    "utf-8",
    "windows-1252",
    "iso-8859-1",
    "iso-8859-2",
    "windows-1250",
    "windows-1251",
    "koi8-r",
    "shift_jis",
    "euc-jp",
    "gb18030",
    "big5",
    "euc-kr",
    "utf-16",
)


def remember_upload(file_name: str, data: bytes, encoding: str | None = None) -> None:
    """Read an upload once and keep it for the session (a rerun must not parse 200 MB again)."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest() + file_name + (encoding or "")
    if st.session_state.get("import_digest") == digest:
        return
    st.session_state.import_digest = digest
    st.session_state.pop(PLAN_KEY, None)
    st.session_state.pop("import_done", None)
    st.session_state.pop(TABLE_KEY, None)
    try:
        st.session_state[TABLE_KEY] = read_table(file_name, data, encoding)
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
    suggested = auto_map(con, table.headers, table.frame)
    sample = table.frame.head(3)
    mapping = {}
    grid = st.columns(3)
    for index, column in enumerate(table.headers):
        examples = ", ".join(str(v)[:30] for v in sample[column].to_list() if v)
        with grid[index % 3]:
            chosen = st.selectbox(
                column,
                options,
                index=options.index(NEW_FIELD if suggested[column].startswith("new:") else suggested[column]),
                format_func=labels.__getitem__,
                key=f"map:{column}",
                help=f"Examples: {examples}" if examples else "Empty in the first rows",
            )
        if chosen == NEW_FIELD:  # a suggested new field keeps its name (an honorific's 'Title')
            chosen = suggested[column] if suggested[column].startswith("new:") else f"new:{column}"
        mapping[column] = chosen
    return mapping


def encoding_picker(table: RawTable) -> str | None:
    """The encoding the CSV was read in, and a choice of another (None: keep the detected one)."""
    if table.kind != "csv":
        return None
    detected = f"Detected: {table.encoding}"
    chosen = st.selectbox(
        "Encoding",
        [detected, *ENCODINGS],
        key="import_encoding",
        help="If names look garbled, pick the encoding the file was saved in.",
    )
    return None if chosen == detected else chosen


def reading_choices(con: duckdb.DuckDBPyConnection, table: RawTable, mapping: dict[str, str]) -> dict:
    """Short rows' missing column, day or month first for ambiguous date columns, and keeping unmapped columns."""
    choices: dict = {"date_orders": {}, "missing_column": None, "keep_unmapped": False}
    short = table.frame.filter(pl.col(CELLS) == len(table.headers) - 1).height
    if short:
        found = "Found from the values"
        picked = st.selectbox(
            f"{short:,} rows have one cell less than the header: which column do they lack?",
            [found, *table.headers, "(the last cells: pad at the end)"],
            key="import_missing_column",
        )
        choices["missing_column"] = None if picked == found else ("" if picked.startswith("(") else picked)
    choices["date_orders"] = date_choices(con, table, mapping)
    unmapped = [column for column, target in mapping.items() if not target]
    if unmapped:
        choices["keep_unmapped"] = st.checkbox(
            f"Keep the {len(unmapped)} unmapped columns as new custom fields: {', '.join(unmapped)}",
            key="import_keep_unmapped",
        )
    return choices


def date_choices(con: duckdb.DuckDBPyConnection, table: RawTable, mapping: dict[str, str]) -> dict[str, str]:
    """How each date column will be read, shown in the mapping step; a column whose values leave day and month
    open asks, preset from the workspace's country. Returns {column: order} for the columns that asked."""
    country = default_country(con)
    fallback = default_order(country)
    dated = {"birthday"} | {f"custom.{f.key}" for f in custom_fields(con) if f.type in ("date", "datetime")}
    orders: dict[str, str] = {}
    for column, target in mapping.items():
        if target not in dated:
            continue
        forms, order, asks = date_column_reading(table.frame[column], fallback)
        if not asks:
            st.caption(f"Dates in '{column}': {forms}" + (" (found from its values)" if order else ""))
            continue
        orders[column] = st.radio(
            f"Dates in '{column}' (like 03/04/1990) are written",
            [DAY_FIRST, MONTH_FIRST],
            index=[DAY_FIRST, MONTH_FIRST].index(fallback),
            horizontal=True,
            key=f"import_date_order:{column}",
            help=f"No value settles it (no day above 12); the default is the workspace's country, {country}.",
        )
    return orders


def options_form(con: duckdb.DuckDBPyConnection, mapping: dict[str, str], choices: dict | None = None) -> ImportOptions:
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
            # A note is always added beside the contact's earlier ones: no rule to choose.
            for target in sorted({t for t in mapping.values() if t and t != NOTE and not t.startswith("new:")}):
                rules[target] = st.selectbox(
                    target,
                    list(RULES),
                    format_func=RULES.__getitem__,
                    index=2 if target == "tags" else 0,
                    key=f"rule:{target}",
                )
    return ImportOptions(mode=mode, mapping=mapping, rules=rules, tags=tags, owner_id=owner, **(choices or {}))


def show_plan(plan: ImportPlan) -> None:
    """The dry run: counts, how the file was read, the rejected rows and every value left out, downloadable."""
    counts = plan.counts()
    cells = st.columns(5)
    for cell, (name, value) in zip(cells, [*counts.items(), ("combined", plan.combined)], strict=True):
        cell.metric(name.capitalize(), f"{value:,}")
    read = [f"Encoding: {plan.encoding}"]
    if plan.alignment is not None:
        where = f"'{plan.alignment.missing}'" if plan.alignment.missing else "the last column"
        how = "your choice" if plan.alignment.chosen_by == "you" else "found from their values"
        read.append(f"{plan.alignment.rows:,} short rows lack {where} ({how})")
    read += [f"'{column}': {order}" for column, order in plan.date_orders.items()]
    if plan.unmapped:
        read.append(f"Not imported: {', '.join(plan.unmapped)}")
    st.caption(" · ".join(read))
    if counts["rejected"]:
        st.markdown(f"**Rejected rows ({counts['rejected']:,})**")
        st.dataframe(
            plan.errors.head(1000),
            hide_index=True,
            width="stretch",
            column_config={"line": "Line", "column": "Column", "reason": "Reason"},
        )
    if counts["skipped"]:
        st.markdown(f"**Skipped rows ({counts['skipped']:,})**")
        st.dataframe(
            plan.skip_reasons.head(1000),
            hide_index=True,
            width="stretch",
            column_config={"line": "Line", "reason": "Why"},
        )
    if plan.warnings.height:
        st.markdown(f"**Values left out or read differently ({plan.warnings.height:,})**")
        st.dataframe(
            plan.warnings.head(1000),
            hide_index=True,
            width="stretch",
            column_config={"line": "Line", "column": "Column", "value": "Value", "reason": "Reason", "action": "Done"},
        )
    if counts["rejected"] or plan.warnings.height:
        st.download_button(
            "Download the problems (CSV)",
            problems_csv(plan),
            file_name=f"problems-{plan.file_name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            icon=":material/download:",
        )


def for_history(history: pl.DataFrame) -> pl.DataFrame:
    """The import history with readable modes."""
    return history.with_columns(pl.col("mode").replace(MODES))
