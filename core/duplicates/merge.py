"""Merging duplicate contacts into a primary: one set-based write that merges a single group or a hundred
thousand groups in one transaction.

The rules of core.duplicates.merge_plan, as SQL: first each member's values as the rules read them (blank
as NULL) with the ranks the rules order by, then one aggregate per field over each group (plain aggregates:
FILTER clauses double the planning time).
"""

from collections.abc import Callable

import duckdb
import polars as pl
from pydantic import BaseModel

from core.accounts.permissions import writes
from core.contacts.activity import now
from core.contacts.custom_values import field_keys, value_column, value_rows_sql
from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.contacts.models import Contact
from core.contacts.records import get_contact
from core.db import Scratch, conflicts_as_stale, rows, scalar, scratch, transaction
from core.db.dialect import dialect
from core.db.extract import analytical_in_transaction, computed
from core.duplicates.merge_plan import (
    MAX_MERGE,
    MOVED_TABLES,
    RULES,
    TOGETHER,
    Rule,
    checked_ids,
    require_found,
)
from core.duplicates.merged_ids import record_merged
from core.errors import ContactsError, StaleContactError
from core.views.search_index import refresh_search_index
from core.workspace import user_role

# Every character str.isspace() knows (none lies above U+3000): what validation.blank strips, for SQL's trim().
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
STALE_MESSAGE = "changed by someone else since the preview; preview again."
CONFLICT = f"A contact was {STALE_MESSAGE}"  # another connection's edit met the merge


class MergeSummary(BaseModel):
    """What merge_groups did: groups merged, secondaries deleted, groups left alone (invalid or overlapping)."""

    groups: int
    contacts_merged: int
    skipped: int = 0


def _is_text(key: str) -> bool:
    return SYSTEM_FIELD_BY_KEY[key].type not in ("date", "datetime", "boolean")


def _present(column: str, text: bool = True) -> str:
    """SQL: the column holds a value that is not blank (the statement binds $whitespace)."""
    return f"trim({column}, $whitespace) <> ''" if text else f"{column} IS NOT NULL"


def _value_sql(key: str) -> str:
    """c.key when it is not blank, else NULL."""
    return f"CASE WHEN {_present(f'c.{key}', _is_text(key))} THEN c.{key} END"


_HAS_NAME = f"({_present('c.first_name')} OR {_present('c.last_name')})"


def _member_values_sql(members: Scratch) -> str:
    """One row per member: its values as the rules read them, and the ranks of rules that weigh several fields."""
    columns = [
        f"{_value_sql(key) if rule in ('fill', 'name') and key != 'name_generated' else 'c.' + key} AS {key}"
        for key, rule in RULES.items()
    ]
    columns += [
        f"CASE WHEN {' OR '.join(_present(f'c.{k}') for k in keys)} THEN c.rank END AS {keys[0]}_rank"
        for keys in sorted(set(TOGETHER.values()))
    ]
    columns += [
        f"CASE WHEN NOT c.name_generated AND {_HAS_NAME} THEN c.rank END AS real_name_rank",
        f"CASE WHEN c.name_generated AND {_HAS_NAME} THEN c.rank END AS made_name_rank",
        f"CASE WHEN NOT c.name_generated THEN {_value_sql('first_name')} END AS real_first_name",
        f"CASE WHEN NOT c.name_generated THEN {_value_sql('last_name')} END AS real_last_name",
    ]
    return f"SELECT c.primary_id, c.rank, c.version, {', '.join(columns)} FROM {members} c"


def _name_sql(key: str) -> str:
    if key == "name_generated":
        return "min(real_name_rank) IS NULL AND min(made_name_rank) IS NOT NULL"
    return (
        f"CASE WHEN min(real_name_rank) IS NOT NULL THEN arg_min(real_{key}, rank) "
        f"ELSE arg_min_null({key}, made_name_rank) END"
    )


def _fill_sql(key: str) -> str:
    together = TOGETHER.get(key)
    return f"arg_min_null({key}, {together[0]}_rank)" if together else f"arg_min({key}, rank)"  # skips NULLs


RULE_SQL: dict[Rule, Callable[[str], str]] = {
    "primary": lambda key: f"arg_min_null({key}, rank)",
    "fill": _fill_sql,
    "name": _name_sql,
    "union": lambda key: f"flatten(list({key} ORDER BY rank))",  # first occurrences are kept below
    "earliest": lambda key: f"min({key})",
    "latest": lambda key: f"max({key})",
    "merge time": lambda key: "$at",
}


def _merged_sql(members: Scratch) -> str:
    """One row per group: the merged contact, as stored. `members` holds each member's contact row and rank."""
    columns = ", ".join(f"{RULE_SQL[rule](key)} AS {key}" for key, rule in RULES.items())
    return (
        "SELECT * REPLACE (list_filter(tags, lambda t, i: list_position(tags, t) = i) AS tags) FROM ("
        f"SELECT primary_id AS contact_id, {columns}, arg_min(version, rank) + 1 AS version "
        f"FROM ({_member_values_sql(members)}) GROUP BY primary_id)"
    )


def _custom_sql(members: Scratch, keys: list[str]) -> str:
    """One row per group and custom field (`keys`): the merged value and the primary's before it."""
    return (
        "SELECT m.primary_id AS contact_id, v.field_key, "
        f"arg_min(CASE WHEN {_present('v.value')} THEN v.value END, m.rank) AS value, "
        "arg_min_null(CASE WHEN m.rank = 0 THEN v.value END, m.rank) AS before "
        f"FROM {members} m JOIN ({value_rows_sql(keys)}) v USING (contact_id) GROUP BY m.primary_id, v.field_key"
    )


def _as_rows(table: str) -> str:
    """SQL: one row (contact_id, key, value as JSON) per field of `table` that is not NULL."""
    return (
        f"UNPIVOT (SELECT contact_id, to_json(COLUMNS(* EXCLUDE (contact_id))) FROM {table}) "
        "ON COLUMNS(* EXCLUDE contact_id) INTO NAME key VALUE value"
    )


def _changes_sql(members: Scratch, merged: Scratch, custom: Scratch) -> str:
    """One row per group: the activity entry's JSON, the merged IDs first, then every value that changed.

    The primary's row and the merged one are compared as (field, JSON value) rows: no expression per field.
    Binds $fields, the system fields in display order.
    """
    return f"""
    WITH before AS (
        {_as_rows(f"(SELECT * EXCLUDE (primary_id, rank, last_updated, version) FROM {members} WHERE rank = 0)")}
    ), after AS (
        {_as_rows(f"(SELECT * EXCLUDE (last_updated, version) FROM {merged})")}
    ), entries AS (
        SELECT m.primary_id AS contact_id, 0 AS position, 'merged' AS key, NULL::JSON AS before,
            to_json(list(m.contact_id ORDER BY m.rank) FILTER (WHERE m.rank > 0)) AS after
        FROM {members} m GROUP BY m.primary_id
        UNION ALL
        SELECT contact_id, position, key, b.value, a.value
        FROM after a FULL JOIN before b USING (contact_id, key)
        JOIN (SELECT unnest($fields) AS key, generate_subscripts($fields, 1) AS position) USING (key)
        WHERE a.value IS DISTINCT FROM b.value
        UNION ALL
        SELECT contact_id, 1000000, 'custom.' || field_key, to_json(before), to_json(value) FROM {custom}
        WHERE before IS DISTINCT FROM value
    )
    SELECT contact_id, to_json(map_from_entries(list({{'k': key, 'v': json_object('before', before, 'after', after)}}
        ORDER BY position, key))) AS changes
    FROM entries GROUP BY contact_id
    """


def _move_related(con: duckdb.DuckDBPyConnection, members: Scratch) -> None:
    """Re-attach the secondaries' records to their primary; their own timestamps keep the timeline in order.

    Channel identities move too, so the next message from a merged visitor reaches the primary.
    """
    for table in (*MOVED_TABLES, "channel_identities"):
        con.execute(
            f"UPDATE {table} SET contact_id = m.primary_id FROM {members} m "
            f"WHERE {table}.contact_id = m.contact_id AND m.rank > 0"
        )


def _rewrite_custom(con: duckdb.DuckDBPyConnection, members: Scratch, custom: Scratch, keys: list[str]) -> None:
    """Replace every member's custom values row by the merged one, on the primary (its blank values dropped)."""
    con.execute(f"DELETE FROM custom_values WHERE contact_id IN (SELECT contact_id FROM {members})")
    if not keys:
        return
    merged = ", ".join(f"max(x.value) FILTER (WHERE x.field_key = '{key}') AS {value_column(key)}" for key in keys)
    con.execute(
        f"INSERT INTO custom_values (contact_id, row_key, {', '.join(value_column(key) for key in keys)}) "
        f"SELECT x.contact_id, m.row_key, {merged} FROM {custom} x "
        f"JOIN {members} m ON m.contact_id = x.contact_id AND m.rank = 0 "
        "WHERE x.value IS NOT NULL GROUP BY x.contact_id, m.row_key"
    )


def _sum_refusals(con: duckdb.DuckDBPyConnection, members: Scratch) -> None:
    """The secondaries' refused events count for their primary (one row per contact)."""
    con.execute(
        "INSERT INTO channel_refusals SELECT m.primary_id, sum(r.refused_count), max(r.last_refused_at) "
        f"FROM {members} m JOIN channel_refusals r USING (contact_id) WHERE m.rank > 0 GROUP BY m.primary_id "
        "ON CONFLICT (contact_id) DO UPDATE SET "
        "refused_count = channel_refusals.refused_count + excluded.refused_count, "
        "last_refused_at = greatest(channel_refusals.last_refused_at, excluded.last_refused_at)"
    )
    con.execute(f"DELETE FROM channel_refusals WHERE contact_id IN (SELECT contact_id FROM {members} WHERE rank > 0)")


def _keep_channels(con: duckdb.DuckDBPyConnection, members: Scratch, merged: Scratch) -> None:
    """Every member's emails and phones that are not the merged primary ones become the primary's additional
    values (the secondaries' own rows go): a merge loses no way to reach the person."""
    con.execute(
        f"""
        INSERT INTO contact_channels (contact_id, kind, value, label, position)
        SELECT primary_id, kind, value, label, position FROM (
        SELECT x.primary_id, x.kind, x.value, x.label,
               coalesce(e.last, 0) + row_number() OVER (PARTITION BY x.primary_id, x.kind ORDER BY x.rank, x.position)
               AS position,
               row_number() OVER (PARTITION BY x.primary_id, x.kind, x.value ORDER BY x.rank, x.position) AS nth
        FROM (
            SELECT primary_id, rank, 'email' AS kind, email AS value, CAST(NULL AS VARCHAR) AS label, 0 AS position
            FROM {members} WHERE email IS NOT NULL
            UNION ALL
            SELECT primary_id, rank, 'phone', phone, NULL, 0 FROM {members} WHERE phone IS NOT NULL
            UNION ALL
            SELECT m.primary_id, m.rank, c.kind, c.value, c.label, c.position
            FROM {members} m JOIN contact_channels c USING (contact_id) WHERE m.rank > 0
        ) x
        JOIN {merged} g ON g.contact_id = x.primary_id
        LEFT JOIN (SELECT contact_id, kind, max(position) AS last FROM contact_channels GROUP BY contact_id, kind) e
            ON e.contact_id = x.primary_id AND e.kind = x.kind
        WHERE x.value IS DISTINCT FROM CASE x.kind WHEN 'email' THEN g.email ELSE g.phone END
          AND NOT EXISTS (SELECT 1 FROM contact_channels y
                          WHERE y.contact_id = x.primary_id AND y.kind = x.kind AND y.value = x.value)
        ) numbered WHERE nth = 1
        """
    )
    con.execute(
        f"DELETE FROM contact_channels WHERE contact_id IN (SELECT contact_id FROM {members} WHERE rank > 0) "
        f"OR (contact_id, kind, value) IN (SELECT contact_id, 'email', email FROM {merged} WHERE email IS NOT NULL "
        f"UNION ALL SELECT contact_id, 'phone', phone FROM {merged} WHERE phone IS NOT NULL)"
    )


def _replace_contacts(con: duckdb.DuckDBPyConnection, members: Scratch, merged: Scratch, actor: str) -> int:
    """Log and delete the secondaries, as core.contacts.records.delete_selected does (their records have moved, so
    there is nothing else to delete), and put each merged primary in place of the stored one."""
    logged = dialect(con).row_json_without("c", ["primary_id", "rank", "touches", "row_key"])
    con.execute(
        f"INSERT INTO deletion_log SELECT $now, $actor, contact_id, {logged} FROM {members} c WHERE rank > 0",
        {"now": now(), "actor": actor},
    )
    # A rewrite, not an UPDATE: DuckDB updates a list column (tags) of an indexed table row by row.
    con.execute(f"DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM {members})")
    # The primary keeps its row_key (the search index's key for it: core/views/search_index.py).
    columns = ["contact_id", *RULES, "version"]
    con.execute(
        f"INSERT INTO contacts ({', '.join(columns)}, row_key) "
        f"SELECT {', '.join(f'g.{column}' for column in columns)}, p.row_key "
        f"FROM {merged} g JOIN {members} p ON p.contact_id = g.contact_id AND p.rank = 0"
    )
    return scalar(con, f"SELECT count(*) FROM {members} WHERE rank > 0")


def _merge(con: duckdb.DuckDBPyConnection, groups: Scratch, actor: str) -> int:
    """Merge every group of `groups` (primary_id, contact_id, rank; rank 0 = the primary; all valid) inside
    the caller's transaction; returns how many secondaries were deleted."""
    at = now()
    keys = field_keys(con)
    # Every member's stored row, read once: the rules, the activity entry and the deletion log use it.
    members_sql = f"SELECT g.primary_id, g.rank, c.* FROM {groups} g JOIN contacts c USING (contact_id)"
    with scratch(con, members_sql) as members:
        # DuckDB reports two transactions updating one column of a row as a conflict, but lets one delete a
        # row that another changed meanwhile. Every write in core bumps the version, so bumping it here first
        # turns a concurrent edit into a conflict (for whichever of the two comes second), not a lost update.
        con.execute(
            "UPDATE contacts SET version = version + 1, touches = touches + 1 "
            f"WHERE contact_id IN (SELECT contact_id FROM {members})"
        )
        # The merged rows and the activity entries are DuckDB SQL: on PostgreSQL they are computed in the process
        # over the members' rows (core.db.extract), and come back by COPY.
        member_values = f"SELECT v.* FROM custom_values v WHERE v.contact_id IN (SELECT contact_id FROM {members})"
        with (
            analytical_in_transaction(
                con, {members.name: f"SELECT * FROM {members}", "custom_values": member_values}
            ) as work,
            computed(con, work, _merged_sql(members), {"at": at, "whitespace": WHITESPACE}) as merged,
            computed(con, work, _custom_sql(members, keys), {"whitespace": WHITESPACE}) as custom,
            computed(con, work, _changes_sql(members, merged, custom), {"fields": list(RULES)}) as changes,
        ):
            _move_related(con, members)
            _rewrite_custom(con, members, custom, keys)
            _sum_refusals(con, members)
            _keep_channels(con, members, merged)
            deleted = _replace_contacts(con, members, merged, actor)
            refresh_search_index(con, merged)  # the primaries' merged names, emails, phones and custom values
            record_merged(con, members, at)
            con.execute(
                "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
                f"SELECT contact_id, $at, $actor, 'merged', CAST(changes AS JSON) FROM {changes}",
                {"at": at, "actor": actor},
            )
    return deleted


def _require_admin(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    if user_role(con, actor) == "agent":
        raise ContactsError("Only admins can merge contacts.")


def _check_versions(con: duckdb.DuckDBPyConnection, ids: list[str], expected_versions: dict[str, int] | None) -> None:
    current = dict(
        rows(con, "SELECT contact_id, version FROM contacts WHERE contact_id IN (SELECT unnest($ids))", {"ids": ids})
    )
    require_found(ids, set(current), ContactsError if expected_versions is None else StaleContactError)
    changed = [f"'{i}'" for i in ids if expected_versions is not None and expected_versions.get(i) != current[i]]
    if changed:
        raise StaleContactError(
            f"Contact {', '.join(changed)} {'was' if len(changed) == 1 else 'were'} {STALE_MESSAGE}"
        )


@writes("duplicates.merge")
def merge_contacts(
    con: duckdb.DuckDBPyConnection,
    primary_id: str,
    secondary_ids: list[str],
    actor: str,
    expected_versions: dict[str, int] | None = None,
) -> Contact:
    """Merge the secondaries into the primary in one transaction (they fill its blanks in the order given).

    With `expected_versions` (a preview's `versions`), refuses when any contact changed since that preview.
    """
    _require_admin(con, actor)
    secondaries = checked_ids(primary_id, secondary_ids)
    ids = [primary_id, *secondaries]
    given = pl.DataFrame(
        {"primary_id": [primary_id] * len(ids), "contact_id": ids, "rank": range(len(ids))},
        schema={"primary_id": pl.String, "contact_id": pl.String, "rank": pl.Int64},
    )
    with scratch(con, given) as source, conflicts_as_stale(CONFLICT), transaction(con):
        _check_versions(con, ids, expected_versions)
        _merge(con, source, actor)
    return get_contact(con, primary_id)


def _valid_members_sql(source: Scratch) -> str:
    """The members of every group that can be merged, ranked: the primary 0, then most recently updated first.

    Missing contacts drop out; a group is left alone without its primary, with fewer than 2 or more than
    MAX_MERGE members, or when one of its contacts is also in another group.
    """
    return (
        f"WITH given AS (SELECT DISTINCT primary_id, contact_id FROM {source} "
        "WHERE primary_id IS NOT NULL AND contact_id IS NOT NULL), "
        "present AS (SELECT g.primary_id, g.contact_id, c.last_updated "
        "FROM given g JOIN contacts c USING (contact_id)), "
        "refused AS (SELECT primary_id FROM present GROUP BY primary_id "
        f"HAVING count(*) NOT BETWEEN 2 AND {MAX_MERGE} OR NOT bool_or(contact_id = primary_id) "
        "UNION SELECT primary_id FROM present WHERE contact_id IN "
        "(SELECT contact_id FROM present GROUP BY contact_id HAVING count(*) > 1)) "
        "SELECT primary_id, contact_id, row_number() OVER (PARTITION BY primary_id "
        "ORDER BY contact_id <> primary_id, last_updated DESC, contact_id) - 1 AS rank "
        "FROM present WHERE primary_id NOT IN (SELECT primary_id FROM refused)"
    )


@writes("duplicates.merge")
def merge_groups(con: duckdb.DuckDBPyConnection, groups: pl.DataFrame, actor: str) -> MergeSummary:
    """Merge many groups at once, set-based, in one transaction.

    `groups` has a row per member (primary_id, contact_id; the primary is a member of its own group).
    Secondaries fill blanks most recently updated first, ties by contact ID, as preview_merge(order="recent")
    shows. Groups that cannot be merged (see _valid_members_sql) are left untouched and counted as skipped.
    """
    _require_admin(con, actor)
    if not {"primary_id", "contact_id"} <= set(groups.columns):
        raise ContactsError("Groups to merge need the columns primary_id and contact_id.")
    given = groups.select(pl.col("primary_id").cast(pl.String), pl.col("contact_id").cast(pl.String))
    with (
        scratch(con, given) as source,
        conflicts_as_stale(CONFLICT),
        transaction(con),
        scratch(con, _valid_members_sql(source)) as valid,
    ):
        asked = scalar(con, f"SELECT count(DISTINCT primary_id) FROM {source}")
        merged = scalar(con, f"SELECT count(DISTINCT primary_id) FROM {valid}")
        deleted = _merge(con, valid, actor)
    return MergeSummary(groups=merged, contacts_merged=deleted, skipped=asked - merged)
