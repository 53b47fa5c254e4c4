"""Writing a planned import: one transaction of set-based statements, then a line in the history."""

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

import duckdb
import polars as pl
from pydantic import BaseModel

from core.accounts.permissions import writes
from core.contacts.activity import now, record_bulk_activity
from core.contacts.custom_values import add_value_column, value_column
from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.contacts.records import new_contact_ids
from core.db import Scratch, frame, scalar, scratch, transaction
from core.db.bulk import indexes_built_after, rebuilds_indexes
from core.db.dialect import Dialect, dialect
from core.exporting import csv_bytes
from core.importer.cleaning import MORE_EMAILS, MORE_PHONES
from core.importer.mapping import NOTE
from core.importer.planning import ACTION, TARGET, ImportPlan
from core.importer.reading import LINE
from core.views.search_index import SEARCHED_FIELDS, refresh_custom_terms, refresh_search_index

Progress = Callable[[float, str], None]
_TEXT_TYPES = ("text",)


class ImportResult(BaseModel):
    """What a commit did."""

    import_id: int
    created: int
    updated: int
    skipped: int
    rejected: int
    changed: int = 0  # of the updated contacts, those where a value actually changed


def _columns(plan: ImportPlan) -> tuple[list[str], list[str]]:
    """System columns and custom keys present in the staged rows (all from allow-lists)."""
    system = [c for c in plan.staged.columns if c in SYSTEM_FIELD_BY_KEY and c != "contact_id"]
    custom = [c.removeprefix("custom.") for c in plan.staged.columns if c.startswith("custom.")]
    return system, custom


@writes("import")
def commit_import(
    con: duckdb.DuckDBPyConnection, plan: ImportPlan, actor: str, progress: Progress | None = None
) -> ImportResult:
    """Apply the plan in one transaction: all of it, or (on any failure or kill) none of it."""
    report = progress or (lambda fraction, text: None)
    counts = plan.counts()
    system, custom = _columns(plan)
    staged = plan.staged.filter(pl.col(ACTION) != "skip").with_columns(
        pl.col("contact_id") if "contact_id" in plan.staged.columns else pl.lit(None, pl.String).alias("contact_id")
    )
    staged, channels = _split_channels(staged)
    at = now()
    with scratch(con, _with_ids(staged), table=True) as stage, scratch(con, channels) as more, transaction(con):
        report(0.05, "Creating new fields")
        _add_fields(con, plan.new_fields)
        report(0.25, f"Creating {counts['created']:,} contacts")
        _insert_new(con, stage, plan, system, at, counts["created"])
        report(0.5, f"Updating {counts['updated']:,} contacts")
        with _changed_rows(con, stage, plan, system, custom) as changed:
            _update_existing(con, stage, changed, plan, system, at)
            report(0.7, "Writing custom fields")
            _write_custom(con, stage, changed, plan, custom)
            bringing = more if channels.height else None  # rows bringing additional emails or phones
            gained_only_channels = _write_channels(con, stage, bringing, changed, plan, actor, at)
            report(0.75, "Recording activity")
            _record_activity(con, stage, changed, plan.file_name, actor, at)
            if NOTE in plan.staged.columns:
                report(0.8, "Adding notes")
                _write_notes(con, stage, actor, at)
            changed_count = scalar(con, f"SELECT count(*) FROM {changed}") + gained_only_channels
            # Last: a batch larger than the search index rebuilds its tables' indexes, which locks them
            # until the commit (core.db.bulk), so other sessions' searches wait for these seconds only.
            report(0.85, "Updating the search index")
            with (
                scratch(con, _reindexed_sql(stage, bringing, changed)) as reindexed,
                scratch(con, _reindexed_sql(stage, bringing, changed, created=False)) as existing,
            ):
                refresh_search_index(con, reindexed, "__id", custom_values=False, bulk=True, existing=existing)
            if custom:
                with scratch(con, _custom_reindexed_sql(stage, changed)) as reindexed:
                    refresh_custom_terms(con, reindexed, "__id")
        import_id = _record_import(con, plan, counts, actor, at)
    report(1.0, "Done")
    return ImportResult(import_id=import_id, changed=changed_count, **counts)


def _split_channels(staged: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The staged rows without their additional emails and phones (lists of value and label), and those as rows of
    their own: line, kind, value, label and position (from 1, in the row's list). Lists of records have no column
    type both stores share; rows do (on PostgreSQL a frame becomes a temporary table)."""
    lists = [(kind, column) for kind, column in (("email", MORE_EMAILS), ("phone", MORE_PHONES)) if column in staged]
    parts = [
        staged.select(LINE, pl.col(column).alias("item"))
        .filter(pl.col("item").list.len() > 0)
        .with_columns(pl.int_ranges(1, pl.col("item").list.len() + 1, dtype=pl.Int32).alias("position"))
        .explode("item", "position")
        .select(
            LINE,
            pl.lit(kind, pl.String).alias("kind"),
            pl.col("item").struct.field("value").cast(pl.String),
            pl.col("item").struct.field("label").cast(pl.String),
            "position",
        )
        for kind, column in lists
    ]
    schema: dict[str, pl.DataType] = {LINE: staged.schema[LINE], "kind": pl.String(), "value": pl.String()}
    schema |= {"label": pl.String(), "position": pl.Int32()}
    channels = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return staged.drop([column for _, column in lists]), channels


def _add_fields(con: duckdb.DuckDBPyConnection, new_fields: dict[str, str]) -> None:
    for key, label in new_fields.items():
        con.execute(
            "INSERT INTO custom_fields (key, label, type, position) "
            "SELECT $key, $label, 'text', coalesce(max(position), 0) + 1 FROM custom_fields",
            {"key": key, "label": label},
        )
        add_value_column(con, key)


def _record_activity(
    con: duckdb.DuckDBPyConnection, stage: Scratch, changed: Scratch, file_name: str, actor: str, at: object
) -> None:
    """A 'created' entry per new contact and an 'updated' one, with each changed value before and after, per
    contact whose values changed (on PostgreSQL in the contacts' order, which activity's index on contact_id takes
    in order: 200,000 entries 1.3 -> 0.6 s of server CPU)."""
    con.execute(
        "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
        f"SELECT __id, $at, $actor, 'created', $changes FROM {stage} WHERE {ACTION} = 'create' "
        f"UNION ALL SELECT __id, $at, $actor, 'updated', changes::JSON FROM {changed}"
        f"{dialect(con).insert_order('__id')}",
        {"at": at, "actor": actor, "changes": json.dumps({"import": file_name})},
    )


def _with_ids(staged: pl.DataFrame) -> pl.DataFrame:
    """The rows to write, each with the ID of its contact (__id): the matched one's, else the file's, else a new one
    (core.contacts.records.new_contact_ids). Made here, not by the store: on PostgreSQL a copy of the
    1,000,000 staged rows with a column added took 1.8-2.3 s of server CPU."""
    return staged.with_columns(
        pl.when(pl.col(ACTION) == "create")
        .then(pl.coalesce("contact_id", new_contact_ids(staged.height)))
        .otherwise(pl.col(TARGET))
        .alias("__id")
    )


def _record_import(
    con: duckdb.DuckDBPyConnection, plan: ImportPlan, counts: dict[str, int], actor: str, at: object
) -> int:
    return scalar(
        con,
        "INSERT INTO import_history (imported_at, actor, file_name, mode, total_rows, created, updated, skipped, "
        "rejected) VALUES ($at, $actor, $file, $mode, $total, $created, $updated, $skipped, $rejected) "
        "RETURNING import_id",
        {
            "at": at,
            "actor": actor,
            "file": plan.file_name,
            "mode": plan.options.mode,
            "total": plan.total_rows,
            **counts,
        },
    )


def _insert_new(
    con: duckdb.DuckDBPyConnection, stage: Scratch, plan: ImportPlan, system: list[str], at: object, created: int
) -> None:
    columns = [c for c in system if c not in ("lead_stage", "owner_id", "tags")]
    # A blank subscription cell means the column default, not NULL (the column is NOT NULL).
    values = [f"coalesce({c}, 'not set')" if c.endswith("_subscription") else c for c in columns]
    lead_stage = "coalesce(lead_stage, 'Contact')" if "lead_stage" in system else "'Contact'"
    owner = "coalesce($owner, owner_id)" if "owner_id" in system else "$owner"
    # The file's tags as they are when no tags are given to every row (on PostgreSQL the merge is a subquery per
    # row: 1,000,000 of them for nothing); `$tags` is then the empty list.
    store = dialect(con)
    given = (
        store.list_concat_new("tags", "$tags::VARCHAR[]") if plan.options.tags else "coalesce(tags, $tags::VARCHAR[])"
    )
    tags = given if "tags" in system else "$tags::VARCHAR[]"
    select = ", ".join([*values, lead_stage, owner, tags])
    # In the file's order; on PostgreSQL in the IDs' order: the primary key and the created and updated sort indexes
    # (key: the import's time, then the ID) then take their entries in order (200,000 rows into 1,000,000: 6.5 ->
    # 2.4 s of server CPU). row_key then follows the IDs there; nothing reads it as the file's order.
    order = store.insert_order("__id") or f" ORDER BY {LINE}"
    # More new contacts than the workspace holds (a first import): the indexes other than the primary key (the list's
    # sort indexes, row_key) are built after them (core.db.bulk; 1,000,000 rows on PostgreSQL: 7.5 s -> 3.1 s and
    # 3.7 s of builds), which locks contacts until the commit.
    with indexes_built_after(con, "contacts", rebuilds_indexes(con, "contacts", created)):
        con.execute(
            f"INSERT INTO contacts (contact_id, {', '.join([*columns, 'lead_stage', 'owner_id', 'tags'])}, source, "
            f"created_on, last_updated) SELECT __id, {select}, 'import', $at, $at FROM {stage} "
            f"WHERE {ACTION} = 'create'{order}",
            {"owner": plan.options.owner_id, "tags": plan.options.tags, "at": at},
        )


def _update_expression(store: Dialect, column: str, rule: str) -> str:
    """What an update writes into one column, by the user's rule; a blank cell never erases a value."""
    old, new = f"contacts.{column}", f"s.{column}"
    if column == "tags":
        return {
            "overwrite": f"CASE WHEN {store.list_length(new)} = 0 THEN {old} ELSE {new} END",
            "fill": f"CASE WHEN {store.list_length(old)} = 0 THEN {new} ELSE {old} END",
        }.get(rule, store.list_concat_new(old, new))
    text = SYSTEM_FIELD_BY_KEY[column].type == "text" and column != "phone_raw"
    if rule == "append" and text:
        return (
            f"CASE WHEN {new} IS NULL THEN {old} WHEN coalesce({old}, '') = '' THEN {new} "
            f"WHEN {old} = {new} THEN {old} ELSE {old} || ', ' || {new} END"
        )
    if rule in ("fill", "append"):  # appending to an email, a phone or a choice means filling a blank one
        blank = f"{old} IS NULL OR {old}::VARCHAR = ''"
        return f"CASE WHEN {blank} THEN {new} ELSE {old} END"
    return f"coalesce({new}, {old})"


def _assignments(store: Dialect, plan: ImportPlan, system: list[str]) -> dict[str, str]:
    """Column -> the SQL expression an update writes into it (over `contacts` and stage `s`)."""
    rules = plan.options.rules
    assignments = {
        column: _update_expression(
            store,
            column,
            rules.get("phone" if column == "phone_raw" else column, "append" if column == "tags" else "overwrite"),
        )
        for column in system
    }
    if plan.options.tags:
        base = assignments.get("tags", "contacts.tags")
        assignments["tags"] = store.list_concat_new(base, "$tags::VARCHAR[]")
    if plan.options.owner_id:
        assignments["owner_id"] = "CAST($owner AS VARCHAR)"
    return assignments


def _params(plan: ImportPlan) -> dict[str, object]:
    """The values the update expressions bind: the tags and owner given to every imported contact."""
    return ({"tags": plan.options.tags} if plan.options.tags else {}) | (
        {"owner": plan.options.owner_id} if plan.options.owner_id else {}
    )


def _custom_update_expression(key_index: int, rule: str) -> tuple[str, str]:
    """(stored value, value after the update) of one custom field, over stage `s` and current values `cv`."""
    old, new = f'cv."{key_index}"', 's."custom.{key}"'
    after = {
        "fill": f"coalesce({old}, {new})",
        "append": f"CASE WHEN {new} IS NULL THEN {old} WHEN {old} IS NULL THEN {new} WHEN {old} = {new} THEN {old} "
        f"ELSE {old} || ', ' || {new} END",
    }.get(rule, f"coalesce({new}, {old})")
    return old, after


def _changed_rows(
    con: duckdb.DuckDBPyConnection, stage: Scratch, plan: ImportPlan, system: list[str], custom: list[str]
) -> AbstractContextManager[Scratch]:
    """The matched rows whose system or custom values change (__id, tags_changed, searched_changed: a name, email
    or phone the search index holds changes, custom_changed: a custom value changes, changes as before/after
    JSON); the others are left alone (no new version, no activity).

    Found first: DuckDB rewrites a whole row to update a list column (tags), so tags are written only where
    they change, and the other columns only on rows where something changes.
    """
    store = dialect(con)
    compared = {
        column: (f"contacts.{column}", f"({expr})") for column, expr in _assignments(store, plan, system).items()
    }
    for index, key in enumerate(custom):  # keys come from the allow-list of custom fields (planning checks it)
        old, after = _custom_update_expression(index, plan.options.rules.get(f"custom.{key}", "overwrite"))
        compared[f"custom.{key}"] = (old, after.replace("{key}", key))
    differs = {name: f"{after} IS DISTINCT FROM {old}" for name, (old, after) in compared.items()}
    diff_parts = [
        f"CASE WHEN {differs[name]} THEN {_json_key(name)} || {store.json_object([('before', old), ('after', to)])} END"
        for name, (old, to) in compared.items()
    ]
    current = ", ".join(f'{value_column(key)} AS "{i}"' for i, key in enumerate(custom))
    custom_join = (
        f"LEFT JOIN (SELECT contact_id, {current} FROM custom_values) cv ON cv.contact_id = s.__id " if custom else ""
    )
    entry = "CAST($import_entry AS VARCHAR)"
    changes = f"('{{' || concat_ws(', ', {entry}, {', '.join(diff_parts)}) || '}}')" if diff_parts else "'{}'"
    searched = [differs[name] for name in sorted(SEARCHED_FIELDS) if name in differs]
    searched_changed = f"({' OR '.join(searched)})" if searched else "FALSE"
    custom_differs = [differs[f"custom.{key}"] for key in custom]
    custom_changed = f"({' OR '.join(custom_differs)})" if custom_differs else "FALSE"
    sql = (
        f"SELECT s.__id, {differs.get('tags', 'FALSE')} AS tags_changed, {searched_changed} AS searched_changed, "
        f"{custom_changed} AS custom_changed, "
        f"{changes} AS changes FROM {stage} s "
        f"JOIN contacts ON contacts.contact_id = s.__id {custom_join}"
        f"WHERE s.{ACTION} = 'update' AND ({' OR '.join(differs.values()) or 'FALSE'})"
    )
    params = _params(plan)
    params["import_entry"] = '"import": ' + json.dumps(plan.file_name)
    return scratch(con, sql, _used(sql, params))


def _json_key(name: str) -> str:
    """A JSON object key as a SQL string literal: '"name": ' (names come from the allow-lists)."""
    return "'" + json.dumps(name).replace("'", "''") + ": '"


def _update_existing(
    con: duckdb.DuckDBPyConnection, stage: Scratch, changed: Scratch, plan: ImportPlan, system: list[str], at: object
) -> None:
    """Update the changed rows: their scalar columns and version, then the tags of those whose tags change."""
    assignments, params = _assignments(dialect(con), plan, system), _params(plan)
    scalar_sets = [f"{column} = {expr}" for column, expr in assignments.items() if column != "tags"]
    scalar_sets += ["version = contacts.version + 1", "last_updated = $at"]
    _update_rows(con, stage, changed, scalar_sets, "TRUE", params | {"at": at})
    if "tags" in assignments:
        _update_rows(con, stage, changed, [f"tags = {assignments['tags']}"], "c.tags_changed", params)


def _update_rows(
    con: duckdb.DuckDBPyConnection, stage: Scratch, changed: Scratch, sets: list[str], which: str, params: dict
) -> None:
    sql = (
        f"UPDATE contacts SET {', '.join(sets)} FROM (SELECT s.* FROM {stage} s JOIN {changed} c USING (__id) "
        f"WHERE {which}) s WHERE contacts.contact_id = s.__id"
    )
    con.execute(sql, _used(sql, params))


def _used(sql: str, params: dict) -> dict:
    """The parameters a statement names (DuckDB refuses extra ones)."""
    return {name: value for name, value in params.items() if f"${name}" in sql}


def _write_custom(
    con: duckdb.DuckDBPyConnection, stage: Scratch, changed: Scratch, plan: ImportPlan, custom: list[str]
) -> None:
    """The custom values of new contacts and of changed ones, every field in one statement (an unchanged contact is
    not written: see core.contacts.records.delete_selected on why every write must come with a version)."""
    if not custom:
        return
    given = {key: f's."custom.{key}"' for key in custom}  # keys came from the allow-list (planning checks them)
    stored = {key: f"custom_values.{value_column(key)}" for key in custom}
    after = {
        key: {
            "fill": f"coalesce({stored[key]}, {new})",
            "append": f"CASE WHEN {new} IS NULL THEN {stored[key]} WHEN {stored[key]} IS NULL THEN {new} "
            f"WHEN {stored[key]} = {new} THEN {stored[key]} ELSE {stored[key]} || ', ' || {new} END",
        }.get(plan.options.rules.get(f"custom.{key}", "overwrite"), f"coalesce({new}, {stored[key]})")
        for key, new in ((key, f"excluded.{value_column(key)}") for key in custom)
    }
    con.execute(
        f"INSERT INTO custom_values (contact_id, row_key, {', '.join(value_column(key) for key in custom)}) "
        f"SELECT s.__id, c.row_key, {', '.join(given.values())} FROM {stage} s "
        "JOIN contacts c ON c.contact_id = s.__id "
        f"WHERE ({' OR '.join(f'{column} IS NOT NULL' for column in given.values())}) "
        f"AND (s.{ACTION} = 'create' OR s.__id IN (SELECT __id FROM {changed})) ORDER BY c.row_key "
        f"ON CONFLICT (contact_id) DO UPDATE SET {', '.join(f'{value_column(key)} = {after[key]}' for key in custom)}"
    )


def _added_channels_sql(stage: Scratch, more: Scratch, kind: str) -> str:
    """A kind's additional values the import brings that the contact does not have yet (nor as its primary)."""
    return f"""
        SELECT contact_id, kind, value, label, position FROM (
            SELECT s.__id AS contact_id, '{kind}' AS kind, n.value, n.label,
                   CAST(coalesce(e.last, 0) + row_number() OVER (PARTITION BY s.__id ORDER BY n.position) AS INTEGER)
                       AS position,
                   row_number() OVER (PARTITION BY s.__id, n.value ORDER BY n.position) AS repeat
            FROM {more} n
            JOIN {stage} s ON s.{LINE} = n.{LINE}
            JOIN contacts c ON c.contact_id = s.__id
            LEFT JOIN (SELECT contact_id, max(position) AS last FROM contact_channels WHERE kind = '{kind}'
                       GROUP BY contact_id) e ON e.contact_id = s.__id
            WHERE n.kind = '{kind}' AND n.value IS DISTINCT FROM c.{kind}
              AND NOT EXISTS (SELECT 1 FROM contact_channels x
                              WHERE x.contact_id = s.__id AND x.kind = '{kind}' AND x.value = n.value)
        ) added WHERE repeat = 1"""


def _write_channels(
    con: duckdb.DuckDBPyConnection,
    stage: Scratch,
    more: Scratch | None,
    changed: Scratch,
    plan: ImportPlan,
    actor: str,
    at: object,
) -> int:
    """Each row's additional emails and phones (`more`: see _split_channels), after the contact's own. An updated
    contact that gains only these is changed all the same: its version is bumped and the values it gained are
    logged (their count)."""
    if more is None:
        return 0
    parts = [
        _added_channels_sql(stage, more, kind)
        for kind, column in (("email", MORE_EMAILS), ("phone", MORE_PHONES))
        if column in plan.staged.columns
    ]
    with scratch(con, " UNION ALL ".join(parts), table=True) as added:
        con.execute(f"INSERT INTO contact_channels SELECT contact_id, kind, value, label, position FROM {added}")
        only_these = (
            f"SELECT a.contact_id, string_agg(a.kind || ' ' || a.value, ', ' ORDER BY a.kind, a.position) AS gained "
            f"FROM {added} a JOIN {stage} s ON s.__id = a.contact_id WHERE s.{ACTION} = 'update' "
            f"AND a.contact_id NOT IN (SELECT __id FROM {changed}) GROUP BY a.contact_id"
        )
        with scratch(con, only_these, table=True) as gained:
            con.execute(
                "UPDATE contacts SET version = version + 1, last_updated = $at "
                f"WHERE contact_id IN (SELECT contact_id FROM {gained})",
                {"at": at},
            )
            entry = dialect(con).json_object(
                [("import", "CAST($file AS VARCHAR)"), ("additional emails and phones", "gained")]
            )
            con.execute(
                "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
                f"SELECT contact_id, $at, $actor, 'updated', {entry} FROM {gained}",
                {"at": at, "actor": actor, "file": plan.file_name},
            )
            return scalar(con, f"SELECT count(*) FROM {gained}") or 0


def _reindexed_sql(stage: Scratch, more: Scratch | None, changed: Scratch, created: bool = True) -> str:
    """SQL: the rows whose searched values may have changed: created, changed in a searched value (a name, the
    email or the phone), or bringing additional emails or phones (`more`, None when no row brings any); without the
    created ones when not `created` (those the search index may hold already). An upsert of rows that mostly stay as
    they were refreshes only these (1M rows with 30% changed refreshed every row: 47 s instead of 13; the 300,000
    whose company and city changed were refreshed too: on PostgreSQL 27 s of 73). A contact may be listed twice
    (UNION ALL: the search index reads them as `IN (...)`; making 1,000,000 IDs distinct took about 1 s of
    PostgreSQL's CPU)."""
    bringing = f"{LINE} IN (SELECT {LINE} FROM {more})" if more is not None else "false"
    listed = f"{ACTION} = 'create' OR {bringing}" if created else f"{ACTION} <> 'create' AND {bringing}"
    return f"SELECT __id FROM {stage} WHERE {listed} UNION ALL SELECT __id FROM {changed} WHERE searched_changed"


def _custom_reindexed_sql(stage: Scratch, changed: Scratch) -> str:
    """SQL: the rows whose custom values may have changed (the search index's custom words): created, or changed in
    a custom value (disjoint: UNION ALL)."""
    return (
        f"SELECT __id FROM {stage} WHERE {ACTION} = 'create' UNION ALL SELECT __id FROM {changed} WHERE custom_changed"
    )


def _write_notes(con: duckdb.DuckDBPyConnection, stage: Scratch, actor: str, at: datetime) -> None:
    """Each row's note added to its contact's timeline (created and updated contacts alike: an update adds a
    note, never replaces one), by the importing user at the import's time, with a 'note added' entry in the
    activity as add_note writes. A note equal to the contact's latest one is not added again, so importing a
    file twice does not repeat its notes. An updated contact is touched, as add_note does (see delete_selected)."""
    latest = (
        "SELECT contact_id, body FROM (SELECT contact_id, body, row_number() OVER "
        "(PARTITION BY contact_id ORDER BY created_at DESC, note_id DESC) AS newest FROM notes "
        f"WHERE contact_id IN (SELECT __id FROM {stage} WHERE {NOTE} IS NOT NULL)) ranked WHERE newest = 1"
    )
    new_notes = (
        f"SELECT s.__id AS contact_id, s.{NOTE} AS body, s.{ACTION} AS action, s.{LINE} AS line FROM {stage} s "
        f"LEFT JOIN ({latest}) l ON l.contact_id = s.__id "
        f"WHERE s.{NOTE} IS NOT NULL AND s.{NOTE} IS DISTINCT FROM l.body"
    )
    with scratch(con, new_notes, table=True) as added:
        con.execute(
            "INSERT INTO notes (contact_id, author, body, created_at) "
            f"SELECT contact_id, $actor, body, $at FROM {added} ORDER BY line",
            {"actor": actor, "at": at},
        )
        con.execute(
            "UPDATE contacts SET touches = touches + 1 "
            f"WHERE contact_id IN (SELECT contact_id FROM {added} WHERE action = 'update')"
        )
        record_bulk_activity(con, added, actor, "note added", None, at)


def import_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pl.DataFrame:
    """The most recent imports: who, when, file, mode and counts."""
    return frame(
        con,
        "SELECT imported_at, actor, file_name, mode, total_rows, created, updated, skipped, rejected "
        "FROM import_history ORDER BY import_id DESC LIMIT $limit",
        {"limit": limit},
    )


def rejected_csv(plan: ImportPlan) -> bytes:
    """The rejected rows as CSV: their line, original cells and a reason column."""
    return csv_bytes(plan.rejected_rows)


def problems_csv(plan: ImportPlan) -> bytes:
    """Both lists as CSV: each rejected row and each value left out, with line, column, value, reason, action."""
    return csv_bytes(plan.problems())
