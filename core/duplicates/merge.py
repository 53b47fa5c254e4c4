"""Merging duplicate contacts into a primary: a preview that says where each merged value comes from, and
one set-based write that merges a single group or a hundred thousand groups in one transaction.

Which value the merged contact keeps is decided by one table, RULES. The preview applies it in Python to
the contacts it is given; the merge applies it as SQL aggregates over every group at once. Secondaries are
ranked (1, 2, ...) and the lowest-ranked contact with a value wins a blank, the primary being rank 0.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

import duckdb
import polars as pl
from pydantic import BaseModel

from core.contacts.activity import now
from core.contacts.fields import SYSTEM_FIELD_BY_KEY, SYSTEM_FIELDS
from core.contacts.models import Contact
from core.contacts.records import get_contact, load_contacts
from core.contacts.validation import blank, custom_fields
from core.db import conflicts_as_stale, rows, scalar, transaction
from core.duplicates.merged_ids import record_merged
from core.errors import ContactsError, StaleContactError
from core.workspace import user_role

MAX_MERGE = 25
MOVED_TABLES = ("conversations", "tickets", "notes", "media", "activity")

Rule = Literal["primary", "fill", "name", "union", "earliest", "latest", "merge time"]
# How a merged system field is chosen when not filled from the first contact that has it ("fill"). Blocked
# status and subscriptions stay the primary's (the guide: "subscription: mainly based on the primary");
# the times of events span all the contacts.
SPECIAL_RULES: dict[str, Rule] = {
    **dict.fromkeys(("first_name", "last_name", "name_generated"), "name"),
    **dict.fromkeys(("lead_stage", "source", "email_subscription", "sms_subscription"), "primary"),
    **dict.fromkeys(("blocked", "blocked_on"), "primary"),
    "tags": "union",
    "created_on": "earliest",
    "last_contacted": "latest",
    "last_seen": "latest",
    "last_updated": "merge time",
}
# Every system field but the contact ID, in display order.
RULES: dict[str, Rule] = {f.key: SPECIAL_RULES.get(f.key, "fill") for f in SYSTEM_FIELDS if f.key != "contact_id"}
RULE_TEXT: dict[Rule, str] = {
    "primary": "the primary's",
    "fill": "the primary's, else the first secondary's that is not blank",
    "name": "the first real name, primary first; a generated name only when no contact has a real one",
    "union": "every contact's tags",
    "earliest": "the earliest of all",
    "latest": "the latest of all",
    "merge time": "the time of the merge",
}
# Filled together from one contact, so a phone keeps the form it was entered in and a social ID its channel.
TOGETHER = {"phone": ("phone", "phone_raw"), "channel": ("channel", "social_id")}
TOGETHER |= {partner: keys for keys in list(TOGETHER.values()) for partner in keys}
# Every character str.isspace() knows (none lies above U+3000): what validation.blank strips, for SQL's trim().
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
STALE_MESSAGE = "changed by someone else since the preview; preview again."
CONFLICT = f"A contact was {STALE_MESSAGE}"  # another connection's edit met the merge


class MergedField(BaseModel):
    """One row of the preview: a field's merged value and the contact it came from."""

    key: str  # system field key, or "custom.<key>"
    label: str
    value: Any  # None when every contact is blank
    source_id: str | None  # None when the value is blank
    differs: bool  # the contacts hold more than one distinct non-blank value
    rule: str = ""  # how the value is chosen, for the page to show


class MergePreview(BaseModel):
    """The merged contact field by field, what moves to the primary, and the versions the merge must find."""

    primary_id: str
    secondary_ids: list[str]
    fields: list[MergedField]
    tags: list[str]
    created_on: datetime
    moves: dict[str, int]
    versions: dict[str, int]


class MergeSummary(BaseModel):
    """What merge_groups did: groups merged, secondaries deleted, groups left alone (invalid or overlapping)."""

    groups: int
    contacts_merged: int
    skipped: int = 0


# --- The preview: the rules in Python ---


def _filled(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    """The value from the first contact holding any of the fields filled with `key` (itself, if not blank)."""
    keys = TOGETHER.get(key, (key,))
    source = next((c for c in contacts if any(not blank(getattr(c, k)) for k in keys)), None)
    value = getattr(source, key) if source else None
    return (None, None) if blank(value) else (value, source)


def _has_name(contact: Contact) -> bool:
    return not blank(contact.first_name) or not blank(contact.last_name)


def _named(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    """A generated name is a placeholder, as channels treats it: any real name beats it, primary's first."""
    real = [c for c in contacts if not c.name_generated]
    if any(_has_name(c) for c in real):
        if key == "name_generated":
            return False, next(c for c in real if _has_name(c))
        return _filled(real, key)
    source = next((c for c in contacts if c.name_generated and _has_name(c)), None)
    if key == "name_generated":
        return (True, source) if source else (False, None)
    value = getattr(source, key) if source else None
    return (None, None) if blank(value) else (value, source)


def _primary(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    value = getattr(contacts[0], key)
    return value, None if blank(value) else contacts[0]


def _union(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
    tags = list(dict.fromkeys(tag for contact in contacts for tag in contact.tags))
    return tags, contacts[0] if tags else None


def _extreme(pick: Callable) -> Callable[[list[Contact], str], tuple[Any, Contact | None]]:
    def chosen(contacts: list[Contact], key: str) -> tuple[Any, Contact | None]:
        dated = [c for c in contacts if getattr(c, key) is not None]
        source = pick(dated, key=lambda c: getattr(c, key)) if dated else None  # ties: the first listed
        return (getattr(source, key), source) if source else (None, None)

    return chosen


CHOOSERS: dict[Rule, Callable[[list[Contact], str], tuple[Any, Contact | None]]] = {
    "primary": _primary,
    "fill": _filled,
    "name": _named,
    "union": _union,
    "earliest": _extreme(min),
    "latest": _extreme(max),
    "merge time": lambda contacts, key: (None, None),
}


def _differs(values: list[Any]) -> bool:
    distinct = {frozenset(v) if isinstance(v, list) else v for v in values if not blank(v)}
    return len(distinct) > 1


def _system_field(contacts: list[Contact], key: str) -> MergedField:
    rule = RULES[key]
    value, source = CHOOSERS[rule](contacts, key)
    return MergedField(
        key=key,
        label=SYSTEM_FIELD_BY_KEY[key].label,
        value=value,
        source_id=source.contact_id if source else None,
        differs=_differs([getattr(c, key) for c in contacts]),
        rule=RULE_TEXT[rule],
    )


def _custom_field(contacts: list[Contact], key: str, label: str) -> MergedField:
    source = next((c for c in contacts if not blank(c.custom.get(key))), None)
    return MergedField(
        key=f"custom.{key}",
        label=label,
        value=source.custom[key] if source else None,
        source_id=source.contact_id if source else None,
        differs=_differs([c.custom.get(key) for c in contacts]),
        rule=RULE_TEXT["fill"],
    )


def plan_merge(
    primary: Contact, secondaries: list[Contact], moves: dict[str, int], labels: dict[str, str]
) -> MergePreview:
    """Pure: the merged contact field by field with where each value came from.

    Secondaries fill blanks in the order given; `labels` names the custom fields (key -> label) in display order.
    """
    contacts = [primary, *secondaries]
    stray = {key: key for c in contacts for key in c.custom if key not in labels}  # values of a removed field
    fields = [_system_field(contacts, key) for key in RULES]
    fields += [_custom_field(contacts, key, label) for key, label in (labels | stray).items()]
    return MergePreview(
        primary_id=primary.contact_id,
        secondary_ids=[c.contact_id for c in secondaries],
        fields=fields,
        tags=_union(contacts, "tags")[0],
        created_on=min(c.created_on for c in contacts),
        moves=moves,
        versions={c.contact_id: c.version for c in contacts},
    )


def recent_first(secondaries: list[Contact]) -> list[Contact]:
    """Secondaries in merge_groups' order: most recently updated first, ties by contact ID."""
    by_id = sorted(secondaries, key=lambda c: c.contact_id)
    return sorted(by_id, key=lambda c: c.last_updated, reverse=True)  # a stable sort keeps the ID order of ties


def _checked_ids(primary_id: str, secondary_ids: list[str]) -> list[str]:
    """The secondaries, duplicates collapsed; refuses a set that cannot be merged."""
    if blank(primary_id):
        raise ContactsError("Choose the primary contact the others merge into.", field="primary_id")
    secondaries = list(dict.fromkeys(secondary_ids))
    if primary_id in secondaries:
        raise ContactsError(
            f"Contact '{primary_id}' is the primary; it cannot also be a secondary.", field="secondary_ids"
        )
    count = len(secondaries) + 1
    if count < 2:
        raise ContactsError("Choose at least 2 contacts to merge.", field="secondary_ids")
    if count > MAX_MERGE:
        raise ContactsError(
            f"At most {MAX_MERGE} contacts can be merged at one time; {count} were chosen.", field="secondary_ids"
        )
    return secondaries


def _missing(wanted: list[str], found: set[str], error: type[ContactsError] = ContactsError) -> None:
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        named = ", ".join(f"'{contact_id}'" for contact_id in missing)
        raise error(f"No contact with ID {named} exists; it may have been deleted or merged.", field="contact_id")


def _load_contacts(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, Contact]:
    """The contacts with these IDs; a clear error naming any that no longer exists."""
    found = load_contacts(con, ids)
    _missing(ids, set(found))
    return found


def _move_counts(con: duckdb.DuckDBPyConnection, secondary_ids: list[str]) -> dict[str, int]:
    counts = " UNION ALL ".join(
        f"SELECT '{table}', count(*) FROM {table} WHERE contact_id IN (SELECT unnest($ids))" for table in MOVED_TABLES
    )
    return dict(rows(con, counts, {"ids": secondary_ids}))


def preview_merge(
    con: duckdb.DuckDBPyConnection,
    primary_id: str,
    secondary_ids: list[str],
    order: Literal["given", "recent"] = "given",
) -> MergePreview:
    """What merging these contacts would give; `order="recent"` ranks secondaries as merge_groups does."""
    secondaries = _checked_ids(primary_id, secondary_ids)
    contacts = _load_contacts(con, [primary_id, *secondaries])
    ranked = [contacts[contact_id] for contact_id in secondaries]
    if order == "recent":
        ranked = recent_first(ranked)
    labels = {field.key: field.label for field in custom_fields(con)}
    return plan_merge(contacts[primary_id], ranked, _move_counts(con, secondaries), labels)


# --- The merge: the rules in SQL, over every group at once ---
# First each member's values as the rules read them (blank as NULL) with the ranks the rules order by,
# then one aggregate per field over each group. (Plain aggregates: FILTER clauses double the planning time.)


def _is_text(key: str) -> bool:
    return SYSTEM_FIELD_BY_KEY[key].type not in ("date", "datetime", "boolean")


def _present(column: str, text: bool = True) -> str:
    """SQL: the column holds a value that is not blank (the statement binds $whitespace)."""
    return f"trim({column}, $whitespace) <> ''" if text else f"{column} IS NOT NULL"


def _value_sql(key: str) -> str:
    """c.key when it is not blank, else NULL."""
    return f"CASE WHEN {_present(f'c.{key}', _is_text(key))} THEN c.{key} END"


_HAS_NAME = f"({_present('c.first_name')} OR {_present('c.last_name')})"


def _member_values_sql(members: str) -> str:
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


def _merged_sql(members: str) -> str:
    """One row per group: the merged contact, as stored. `members` holds each member's contact row and rank."""
    columns = ", ".join(f"{RULE_SQL[rule](key)} AS {key}" for key, rule in RULES.items())
    return (
        "SELECT * REPLACE (list_filter(tags, lambda t, i: list_position(tags, t) = i) AS tags) FROM ("
        f"SELECT primary_id AS contact_id, {columns}, arg_min(version, rank) + 1 AS version "
        f"FROM ({_member_values_sql(members)}) GROUP BY primary_id)"
    )


def _custom_sql(members: str) -> str:
    """One row per group and custom field: the merged value and the primary's before it."""
    return (
        "SELECT m.primary_id AS contact_id, v.field_key, "
        f"arg_min(CASE WHEN {_present('v.value')} THEN v.value END, m.rank) AS value, "
        "arg_min_null(CASE WHEN m.rank = 0 THEN v.value END, m.rank) AS before "
        f"FROM {members} m JOIN custom_values v USING (contact_id) GROUP BY m.primary_id, v.field_key"
    )


def _as_rows(table: str) -> str:
    """SQL: one row (contact_id, key, value as JSON) per field of `table` that is not NULL."""
    return (
        f"UNPIVOT (SELECT contact_id, to_json(COLUMNS(* EXCLUDE (contact_id))) FROM {table}) "
        "ON COLUMNS(* EXCLUDE contact_id) INTO NAME key VALUE value"
    )


def _changes_sql(members: str, merged: str, custom: str) -> str:
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


def _temp(kind: str) -> str:
    return f"merge_{kind}_{uuid.uuid4().hex[:12]}"


def _move_related(con: duckdb.DuckDBPyConnection, members: str) -> None:
    """Re-attach the secondaries' records to their primary; their own timestamps keep the timeline in order.

    Channel identities move too, so the next message from a merged visitor reaches the primary.
    """
    for table in (*MOVED_TABLES, "channel_identities"):
        con.execute(
            f"UPDATE {table} SET contact_id = m.primary_id FROM {members} m "
            f"WHERE {table}.contact_id = m.contact_id AND m.rank > 0"
        )


def _rewrite_custom(con: duckdb.DuckDBPyConnection, members: str, custom: str) -> None:
    """Drop the secondaries' values and the primaries' blank ones, then add the values that filled a blank.

    Rows that stay are not rewritten: every deleted row costs an index update at commit.
    """
    con.execute(
        f"DELETE FROM custom_values USING {members} m WHERE custom_values.contact_id = m.contact_id "
        "AND (m.rank > 0 OR trim(custom_values.value, $whitespace) = '')",
        {"whitespace": WHITESPACE},
    )
    con.execute(
        "INSERT INTO custom_values SELECT contact_id, field_key, value FROM "
        f"{custom} WHERE value IS DISTINCT FROM before AND value IS NOT NULL"
    )


def _sum_refusals(con: duckdb.DuckDBPyConnection, members: str) -> None:
    """The secondaries' refused events count for their primary (one row per contact)."""
    con.execute(
        "INSERT INTO channel_refusals SELECT m.primary_id, sum(r.refused_count), max(r.last_refused_at) "
        f"FROM {members} m JOIN channel_refusals r USING (contact_id) WHERE m.rank > 0 GROUP BY m.primary_id "
        "ON CONFLICT (contact_id) DO UPDATE SET refused_count = refused_count + excluded.refused_count, "
        "last_refused_at = greatest(last_refused_at, excluded.last_refused_at)"
    )
    con.execute(f"DELETE FROM channel_refusals WHERE contact_id IN (SELECT contact_id FROM {members} WHERE rank > 0)")


def _replace_contacts(con: duckdb.DuckDBPyConnection, members: str, merged: str, actor: str) -> int:
    """Log and delete the secondaries, as core.contacts.records.delete_selected does (their records have moved, so
    there is nothing else to delete), and put each merged primary in place of the stored one."""
    con.execute(
        "INSERT INTO deletion_log SELECT $now, $actor, contact_id, to_json(c) "
        f"FROM (SELECT * EXCLUDE (primary_id, rank) FROM {members} WHERE rank > 0) c",
        {"now": now(), "actor": actor},
    )
    # A rewrite, not an UPDATE: DuckDB updates a list column (tags) of an indexed table row by row.
    con.execute(f"DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM {members})")
    con.execute(f"INSERT INTO contacts BY NAME SELECT * FROM {merged}")
    return scalar(con, f"SELECT count(*) FROM {members} WHERE rank > 0")


def _merge(con: duckdb.DuckDBPyConnection, groups: str, actor: str) -> int:
    """Merge every group of `groups` (primary_id, contact_id, rank; rank 0 = the primary; all valid) inside
    the caller's transaction; returns how many secondaries were deleted."""
    at = now()
    members, merged, custom, changes = _temp("members"), _temp("merged"), _temp("custom"), _temp("changes")
    # Every member's stored row, read once: the rules, the activity entry and the deletion log use it.
    con.execute(
        f"CREATE TEMP TABLE {members} AS SELECT g.primary_id, g.rank, c.* "
        f"FROM {groups} g JOIN contacts c USING (contact_id)"
    )
    # DuckDB reports two transactions updating one column of a row as a conflict, but lets one delete a row
    # that another changed meanwhile. Every write in core bumps the version, so bumping it here first turns a
    # concurrent edit into a conflict (for whichever of the two comes second) instead of a lost update.
    con.execute(f"UPDATE contacts SET version = version + 1 WHERE contact_id IN (SELECT contact_id FROM {members})")
    con.execute(f"CREATE TEMP TABLE {merged} AS {_merged_sql(members)}", {"at": at, "whitespace": WHITESPACE})
    con.execute(f"CREATE TEMP TABLE {custom} AS {_custom_sql(members)}", {"whitespace": WHITESPACE})
    con.execute(f"CREATE TEMP TABLE {changes} AS {_changes_sql(members, merged, custom)}", {"fields": list(RULES)})
    _move_related(con, members)
    _rewrite_custom(con, members, custom)
    _sum_refusals(con, members)
    deleted = _replace_contacts(con, members, merged, actor)
    record_merged(con, members, at)
    con.execute(
        "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
        f"SELECT contact_id, $at, $actor, 'merged', changes FROM {changes}",
        {"at": at, "actor": actor},
    )
    con.execute("; ".join(f"DROP TABLE {table}" for table in (members, merged, custom, changes)))
    return deleted


def _require_admin(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    if user_role(con, actor) == "agent":
        raise ContactsError("Only admins can merge contacts.")


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, data: pl.DataFrame) -> Iterator[str]:
    """Expose a frame to SQL under a fresh name for the length of the block."""
    name = _temp("input")
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)


def _check_versions(con: duckdb.DuckDBPyConnection, ids: list[str], expected_versions: dict[str, int] | None) -> None:
    current = dict(
        rows(con, "SELECT contact_id, version FROM contacts WHERE contact_id IN (SELECT unnest($ids))", {"ids": ids})
    )
    _missing(ids, set(current), ContactsError if expected_versions is None else StaleContactError)
    changed = [f"'{i}'" for i in ids if expected_versions is not None and expected_versions.get(i) != current[i]]
    if changed:
        raise StaleContactError(
            f"Contact {', '.join(changed)} {'was' if len(changed) == 1 else 'were'} {STALE_MESSAGE}"
        )


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
    secondaries = _checked_ids(primary_id, secondary_ids)
    ids = [primary_id, *secondaries]
    given = pl.DataFrame(
        {"primary_id": [primary_id] * len(ids), "contact_id": ids, "rank": range(len(ids))},
        schema={"primary_id": pl.String, "contact_id": pl.String, "rank": pl.Int64},
    )
    # Registered outside the transaction: unregistering inside an aborted one would hide why it failed.
    with _registered(con, given) as source, conflicts_as_stale(CONFLICT), transaction(con):
        _check_versions(con, ids, expected_versions)
        _merge(con, source, actor)
    return get_contact(con, primary_id)


def _valid_members_sql(source: str) -> str:
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
    with _registered(con, given) as source, conflicts_as_stale(CONFLICT), transaction(con):
        valid = _temp("groups")
        con.execute(f"CREATE TEMP TABLE {valid} AS {_valid_members_sql(source)}")
        asked = scalar(con, f"SELECT count(DISTINCT primary_id) FROM {source}")
        merged = scalar(con, f"SELECT count(DISTINCT primary_id) FROM {valid}")
        deleted = _merge(con, valid, actor)
        con.execute(f"DROP TABLE {valid}")
    return MergeSummary(groups=merged, contacts_merged=deleted, skipped=asked - merged)
