"""Bulk actions over a selection: the chosen contacts, or every contact in the current view.

Each action is one transaction and set-based: the selection is materialised once (so what
the action changes cannot change what it selects), the activity of every contact that will
change is written by one INSERT ... SELECT, and one UPDATE changes them all.
"""

import json
from contextlib import AbstractContextManager
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, model_validator

from core.accounts.permissions import editable_condition, writes
from core.contacts.activity import now, record_bulk_activity
from core.contacts.records import delete_selected
from core.contacts.validation import clean_system_value
from core.db import Scratch, conflicts_as_stale, scalar, scratch, transaction
from core.db.dialect import dialect
from core.errors import ContactsError
from core.views.queries import ListView, view_condition

BulkAction = Literal[
    "add_tags",
    "remove_tags",
    "assign",
    "email_subscription",
    "sms_subscription",
    "block",
    "unblock",
    "delete",
]
BULK_ACTIONS: dict[str, str] = {
    "add_tags": "Add tags",
    "remove_tags": "Remove tags",
    "assign": "Assign to an owner",
    "email_subscription": "Update email subscription",
    "sms_subscription": "Update SMS subscription",
    "block": "Block",
    "unblock": "Unblock",
    "delete": "Delete",
}


class Selection(BaseModel):
    """Which contacts an action applies to: the IDs given, else every contact in the view."""

    ids: list[str] | None = None
    view: ListView | None = None
    everything: bool = False  # the caller means every contact (a delete of an unfiltered view needs it)

    @model_validator(mode="after")
    def _one_of(self) -> "Selection":
        if (self.ids is None) == (self.view is None):
            raise ValueError("a selection is either contact IDs or a view")
        return self


class BulkResult(BaseModel):
    """What a bulk action did: how many contacts it selected and how many it changed."""

    action: str
    selected: int
    changed: int


def selection_condition(con: duckdb.DuckDBPyConnection, selection: Selection, user: str) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and parameters of a selection."""
    if selection.ids is not None:
        return "c.contact_id IN (SELECT unnest($ids))", {"ids": list(dict.fromkeys(selection.ids))}
    return view_condition(con, selection.view or ListView(), user)


def selection_count(con: duckdb.DuckDBPyConnection, selection: Selection, user: str) -> int:
    """How many contacts an action on this selection would apply to (what the confirmation states)."""
    where, params = selection_condition(con, selection, user)
    return scalar(con, f"SELECT count(*) FROM contacts c WHERE {where}", params)


def _selected(con: duckdb.DuckDBPyConnection, selection: Selection, user: str) -> AbstractContextManager[Scratch]:
    """The selection's contact IDs that `user` may edit, copied once (inside the caller's transaction) into a scratch
    table: an agent's bulk action reaches only their own and unassigned contacts (core.accounts.permissions)."""
    where, params = selection_condition(con, selection, user)
    editable, editor = editable_condition(con, user)
    return scratch(con, f"SELECT contact_id FROM contacts c WHERE {where} AND {editable}", params | editor)


def _size(con: duckdb.DuckDBPyConnection, relation: Scratch) -> int:
    return scalar(con, f"SELECT count(*) FROM {relation}")


def _update(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    actor: str,
    action: str,
    change: tuple[str, str, str],
    params: dict[str, Any],
) -> BulkResult:
    """Apply `change` = (SET assignments, 'would change' predicate, changes JSON expression) set-based.

    For scalar columns: DuckDB updates them in place quickly. (Tags are a list: see `_retag`.)
    """
    assignments, differs, changes_sql = change
    with conflicts_as_stale(STALE), transaction(con), _selected(con, selection, actor) as selected:
        chosen = f"c.contact_id IN (SELECT contact_id FROM {selected}) AND {differs}"
        moment = now()
        # Activity first: it reads each contact's value before the update changes it.
        con.execute(
            "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
            f"SELECT c.contact_id, $at, $actor, $action, {changes_sql} FROM contacts c WHERE {chosen}",
            {**params, "at": moment, "actor": actor, "action": action},
        )
        changed = scalar(
            con,
            f"UPDATE contacts AS c SET {assignments}, version = version + 1, last_updated = $at WHERE {chosen}",
            {**params, "at": moment},
        )
        count = _size(con, selected)
    return BulkResult(action=action, selected=count, changed=changed or 0)


def _tags(con: duckdb.DuckDBPyConnection, tags: list[str] | str) -> list[str]:
    cleaned = clean_system_value(con, "tags", tags)["tags"]
    if not cleaned:
        raise ContactsError("Choose at least one tag.", field="tags")
    return cleaned


# A bulk change that met another user's edit: nothing of it is applied.
STALE = "Contacts were changed by someone else while this ran; nothing was changed. Try again."


def _stored_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every column of the contacts table, in order (the rewrite below must carry each one, row_key included)."""
    return [column[0] for column in con.execute("SELECT * FROM contacts LIMIT 0").description or []]


def _replace_rows(con: duckdb.DuckDBPyConnection, rewritten: Scratch) -> None:
    """Put the rewritten rows in place of the stored ones (inside the caller's transaction): deleted and inserted
    again where the store rewrites rows to change a list (DuckDB), else updated in place (PostgreSQL)."""
    if not dialect(con).rewrites_list_updates:
        con.execute(
            "UPDATE contacts SET tags = r.tags, version = r.version, last_updated = r.last_updated, "
            f"touches = r.touches FROM {rewritten} r WHERE contacts.contact_id = r.contact_id"
        )
        return
    listed = ", ".join(_stored_columns(con))
    con.execute(f"DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM {rewritten})")
    con.execute(f"INSERT INTO contacts ({listed}) SELECT {listed} FROM {rewritten}")


def _retag(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    actor: str,
    action: str,
    new_tags: str,
    differs: str,
    tags: list[str],
) -> BulkResult:
    """Rewrite the tags of the selected contacts whose tags `differs` says would change.

    DuckDB updates a list column of a table with an index row by row (35 s for 100,000 contacts
    when measured); rewriting those rows, a delete and an insert, takes about 2 s. PostgreSQL updates them in
    place (the dialect's rewrites_list_updates).
    """
    store, columns = dialect(con), _stored_columns(con)
    replaced = {"tags": new_tags, "version": "c.version + 1", "last_updated": "$at"}
    rewritten_columns = ", ".join(f"{replaced[c]} AS {c}" if c in replaced else f"c.{c}" for c in columns)
    with (
        conflicts_as_stale(STALE),
        transaction(con),
        _selected(con, selection, actor) as selected,
        scratch(
            con,
            f"SELECT {rewritten_columns}, c.tags AS tags_before "
            f"FROM contacts c WHERE c.contact_id IN (SELECT contact_id FROM {selected}) "
            f"AND {differs}",
            {"tags": tags, "at": now()},
        ) as rewritten,
    ):
        con.execute(
            "INSERT INTO activity (contact_id, happened_at, actor, action, changes) "
            "SELECT contact_id, last_updated, $actor, $action, "
            f"{store.json_object([('tags', store.json_object([('before', 'tags_before'), ('after', 'tags')]))])} "
            f"FROM {rewritten}",
            {"actor": actor, "action": action},
        )
        count, changed = _size(con, selected), _size(con, rewritten)
        if store.rewrites_list_updates:
            # DuckDB lets a transaction delete a row another one changed meanwhile, but reports two transactions
            # updating one column of a row as a conflict. Every write in core bumps the version, so bumping it
            # first turns a concurrent edit into a conflict for one of the two instead of a lost update. (An
            # update in place needs none: PostgreSQL refuses a row changed since the transaction's snapshot.)
            con.execute(
                "UPDATE contacts SET version = version + 1, touches = touches + 1 "
                f"WHERE contact_id IN (SELECT contact_id FROM {rewritten})"
            )
        _replace_rows(con, rewritten)
    return BulkResult(action=action, selected=count, changed=changed)


def _before_after(con: duckdb.DuckDBPyConnection, field: str, before: str, after: str) -> str:
    """SQL: the activity's changes JSON of one field, {field: {before, after}} (`field` a column name)."""
    store = dialect(con)
    return store.json_object([(field, store.json_object([("before", before), ("after", after)]))])


@writes("bulk.tags")
def add_tags(con: duckdb.DuckDBPyConnection, selection: Selection, tags: list[str] | str, actor: str) -> BulkResult:
    """Add tags to every selected contact that lacks one of them (kept in order, new ones last)."""
    store = dialect(con)
    added, lacking = store.list_concat_new("c.tags", "$tags"), f"NOT {store.list_has_all('c.tags', '$tags')}"
    return _retag(con, selection, actor, "tags added", added, lacking, _tags(con, tags))


@writes("bulk.tags")
def remove_tags(con: duckdb.DuckDBPyConnection, selection: Selection, tags: list[str] | str, actor: str) -> BulkResult:
    """Remove tags from every selected contact that has one of them."""
    store = dialect(con)
    kept, holding = store.list_without("c.tags", "$tags"), store.list_has_any("c.tags", "$tags")
    return _retag(con, selection, actor, "tags removed", kept, holding, _tags(con, tags))


@writes("bulk.assign")
def assign_owner(con: duckdb.DuckDBPyConnection, selection: Selection, owner_id: str | None, actor: str) -> BulkResult:
    """Give every selected contact this owner (None or '' unassigns them)."""
    owner = clean_system_value(con, "owner_id", owner_id)["owner_id"]
    change = (
        "owner_id = $owner",
        "c.owner_id IS DISTINCT FROM $owner",
        _before_after(con, "owner_id", "c.owner_id", "CAST($owner AS VARCHAR)"),
    )
    return _update(con, selection, actor, "updated", change, {"owner": owner})


@writes("bulk.subscription")
def set_subscription(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    channel: Literal["email", "sms"],
    status: str,
    actor: str,
) -> BulkResult:
    """Set the email or SMS subscription ('subscribed', 'unsubscribed', 'not set') of every selected contact."""
    if channel not in ("email", "sms"):
        raise ContactsError("A subscription is 'email' or 'sms'.", field="channel")
    column = f"{channel}_subscription"
    value = clean_system_value(con, column, status)[column]
    change = (
        f"{column} = $status",
        f"c.{column} <> $status",
        _before_after(con, column, f"c.{column}", "CAST($status AS VARCHAR)"),
    )
    return _update(con, selection, actor, "updated", change, {"status": value})


@writes("bulk.block")
def set_blocked(con: duckdb.DuckDBPyConnection, selection: Selection, blocked: bool, actor: str) -> BulkResult:
    """Block (or unblock) every selected contact; their chat and inbox events are then refused."""
    action = "blocked" if blocked else "unblocked"
    changes = json.dumps({"blocked": {"before": not blocked, "after": blocked}})
    with (
        conflicts_as_stale(STALE),
        transaction(con),
        _selected(con, selection, actor) as selected,
        scratch(
            con,
            f"SELECT contact_id FROM contacts c WHERE c.contact_id IN (SELECT contact_id FROM {selected}) "
            "AND c.blocked <> $blocked",
            {"blocked": blocked},
        ) as changing,
    ):
        record_bulk_activity(con, changing, actor, action, changes)
        changed = scalar(
            con,
            "UPDATE contacts SET blocked = $blocked, blocked_on = CASE WHEN $blocked THEN $at END, "
            f"version = version + 1, last_updated = $at WHERE contact_id IN (SELECT contact_id FROM {changing})",
            {"blocked": blocked, "at": now()},
        )
        count = _size(con, selected)
    return BulkResult(action=action, selected=count, changed=changed or 0)


def is_unfiltered(view: ListView) -> bool:
    """Whether a view is every contact: the All segment, no filter (or an empty one), no search."""
    return view.segment in ("all", "") and (view.filter is None or view.filter.is_empty()) and not view.search.strip()


@writes("bulk.delete")
def delete(con: duckdb.DuckDBPyConnection, selection: Selection, typed_count: str | int, actor: str) -> BulkResult:
    """Delete every selected contact and all that belongs to them, once the caller typed how many; logged."""
    if selection.view is not None and is_unfiltered(selection.view) and not selection.everything:
        raise ContactsError(
            "This would delete every contact: choose a segment, a filter or a search, "
            "or say you mean every contact (`bulk delete --all`).",
            field="confirm",
        )
    with transaction(con), _selected(con, selection, actor) as selected:
        count = _size(con, selected)
        if str(typed_count).strip().replace(",", "") != str(count):
            raise ContactsError(f"Type {count} to confirm deleting {count:,} contact(s).", field="confirm")
        deleted = delete_selected(con, selected, actor)
    return BulkResult(action="deleted", selected=count, changed=deleted)


def run_bulk(
    con: duckdb.DuckDBPyConnection, action: BulkAction, selection: Selection, actor: str, value: Any = None
) -> BulkResult:
    """Run a bulk action by name (for the command line and the page): `value` is its argument."""
    if action in ("add_tags", "remove_tags"):
        return (add_tags if action == "add_tags" else remove_tags)(con, selection, value or [], actor)
    if action == "assign":
        return assign_owner(con, selection, value, actor)
    if action in ("email_subscription", "sms_subscription"):
        return set_subscription(con, selection, "email" if action == "email_subscription" else "sms", value, actor)
    if action in ("block", "unblock"):
        return set_blocked(con, selection, action == "block", actor)
    if action == "delete":
        return delete(con, selection, value, actor)
    raise ContactsError(f"There is no bulk action '{action}'. Actions: {', '.join(BULK_ACTIONS)}.")
