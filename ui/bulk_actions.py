"""The bulk action bar of the contacts list: each action says how many contacts it will change, then runs in core."""

import duckdb
import streamlit as st

from core.contacts.fields import SUBSCRIPTIONS
from core.errors import ContactsError
from core.jobs import Job, Progress
from core.views.bulk import BULK_ACTIONS, BulkAction, Selection, is_unfiltered, run_bulk
from core.views.queries import count_view
from ui.cache import owners, tag_names  # until the next workspace write / any write
from ui.jobs import in_background, show_job, start
from ui.session import user as session_user
from ui.widgets import show_error

BULK_JOB = "bulk"  # bulk actions over large views run as jobs of kind "bulk:<user>" (ui/jobs.py)
DONE_KEY = "bulk_done"  # the message of the last action, shown after the rerun that follows it
ROUND_KEY = "bulk_round"  # bumped after each action so the table's selection starts afresh

PAST_TENSE = {
    "add_tags": "Tagged",
    "remove_tags": "Removed tags from",
    "assign": "Assigned",
    "email_subscription": "Updated the email subscription of",
    "sms_subscription": "Updated the SMS subscription of",
    "block": "Blocked",
    "unblock": "Unblocked",
    "delete": "Deleted",
}


# Why a selected contact was left as it was: "2 already had that owner".
UNCHANGED = {
    "add_tags": "already had those tags",
    "remove_tags": "had none of those tags",
    "assign": "already had that owner",
    "email_subscription": "already had that status",
    "sms_subscription": "already had that status",
    "block": "were already blocked",
    "unblock": "were not blocked",
    "delete": "were already gone",
}


def outcome(action: BulkAction, selected: int, changed: int) -> str:
    """What an action did, and why it changed fewer contacts than were selected."""
    done = f"{PAST_TENSE[action]} {contacts_word(changed)}."
    left = selected - changed
    if left <= 0:
        return done
    reason = UNCHANGED[action]
    if left == 1:
        reason = reason.replace("were ", "was ")
    return f"{done} {left:,} {reason}."


def contacts_word(count: int) -> str:
    """'1 contact', '1,204 contacts'."""
    return f"{count:,} contact{'' if count == 1 else 's'}"


def _run(
    con: duckdb.DuckDBPyConnection,
    action: BulkAction,
    selection: Selection,
    user: str,
    value: object,
    label: str,
    count: int,
    ready: bool = True,
) -> None:
    if st.button(label, type="primary", key=f"bulk-{action}-go", disabled=not ready):
        try:
            if in_background(count):
                _start_in_background(action, selection, user, value)
            else:
                result = run_bulk(con, action, selection, user, value)
                st.session_state[DONE_KEY] = outcome(action, result.selected, result.changed)
        except ContactsError as error:
            show_error(error)
            return
        st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
        st.rerun()


# The permission rule of each action (core/accounts/permissions.py), checked when its job starts and again in core.
ACTION_RULES: dict[BulkAction, str] = {
    "add_tags": "bulk.tags",
    "remove_tags": "bulk.tags",
    "assign": "bulk.assign",
    "email_subscription": "bulk.subscription",
    "sms_subscription": "bulk.subscription",
    "block": "bulk.block",
    "unblock": "bulk.block",
    "delete": "bulk.delete",
}


def _job_message(job: Job) -> str:
    return str((job.result or {}).get("message", "Done."))


def _start_in_background(action: BulkAction, selection: Selection, user: str, value: object) -> None:
    """A bulk action over a large view: a background job as `user` (run_bulk checks them as usual)."""

    def work(job_con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, object]:
        progress(0.05, f"{BULK_ACTIONS[action]}…")
        result = run_bulk(job_con, action, selection, user, value)
        return {"message": outcome(action, result.selected, result.changed)}

    start(f"{BULK_JOB}:{user}", ACTION_RULES[action], work)  # one at a time per user


def _tags(
    con: duckdb.DuckDBPyConnection, action: BulkAction, selection: Selection, user: str, target: str, count: int
) -> None:
    adding = action == "add_tags"
    tags = st.multiselect(
        "Tags to add" if adding else "Tags to remove",
        tag_names(con),
        key=f"bulk-{action}-tags",
        accept_new_options=adding,
        placeholder="choose or type tags",
    )
    _run(con, action, selection, user, tags, f"{'Add to' if adding else 'Remove from'} {target}", count, bool(tags))


def _assign(con: duckdb.DuckDBPyConnection, selection: Selection, user: str, target: str, count: int) -> None:
    team = owners(con)
    owner = st.selectbox(
        "Owner", ["", *team], key="bulk-assign-owner", format_func=lambda key: team.get(key, "Unassigned")
    )
    _run(con, "assign", selection, user, owner, f"Assign {target}", count)


def _subscription(con: duckdb.DuckDBPyConnection, selection: Selection, user: str, target: str, count: int) -> None:
    kinds: list[BulkAction] = ["email_subscription", "sms_subscription"]
    kind = st.radio(
        "Subscription",
        kinds,
        key="bulk-subscription-kind",
        horizontal=True,
        format_func=lambda key: "Email" if key.startswith("email") else "SMS",
    )
    status = st.selectbox("New status", SUBSCRIPTIONS, key="bulk-subscription-status")
    _run(con, kind, selection, user, status, f"Update {target}", count)


EXACT_KEY = "bulk-delete-exact"  # session key: (the view counted, its exact count)


def _exact_count(con: duckdb.DuckDBPyConnection, selection: Selection, user: str) -> int | None:
    """The view's exact count for a delete when its shown total is an estimate (PostgreSQL, large views): counted
    on demand, since it costs seconds there, and kept for this view only."""
    view = selection.view
    if view is None:
        return None
    counted = st.session_state.get(EXACT_KEY)
    counted_view = view.model_dump_json(exclude={"page"})
    if counted and counted[0] == counted_view:
        return int(counted[1])
    st.write("The total shown is an estimate: count these contacts exactly before deleting them.")
    if st.button("Count them exactly", key="bulk-delete-count"):
        st.session_state[EXACT_KEY] = (counted_view, count_view(con, view, user))
        st.rerun()
    return None


def _delete(con: duckdb.DuckDBPyConnection, selection: Selection, user: str, count: int, estimated: bool) -> None:
    if estimated:
        exact = _exact_count(con, selection, user)
        if exact is None:
            return
        count = exact
    st.write(f"Deleting removes {contacts_word(count)} and everything that belongs to them. This cannot be undone.")
    typed = st.text_input(f"Type {count} to confirm", key="bulk-delete-typed")
    meant = True
    if selection.view is not None and is_unfiltered(selection.view):  # core refuses this unless said outright
        meant = st.checkbox("I mean every contact in the workspace", key="bulk-delete-everything")
        selection = selection.model_copy(update={"everything": meant})
    _run(
        con,
        "delete",
        selection,
        user,
        typed,
        f"Delete {contacts_word(count)}",
        count,
        meant and typed.strip().replace(",", "") == str(count),
    )


def bulk_actions(
    con: duckdb.DuckDBPyConnection, selection: Selection, count: int, user: str, estimated: bool = False
) -> None:
    """One popover per action, each confirming how many contacts it applies to (`estimated`: the view's total is
    an estimate, said as "about"; a delete counts exactly first)."""
    target = ("about " if estimated else "") + contacts_word(count)
    scope = "selected" if selection.ids is not None else "in this view"
    article = "" if estimated else "the "  # "to about 9,700,000 contacts", "to the 12 contacts"
    st.caption(f"Actions apply to {article}{target} {scope}." if count else "No contacts to act on.")
    cells = st.columns(len(BULK_ACTIONS) - 1)
    with cells[0].popover(BULK_ACTIONS["add_tags"], icon=":material/sell:", width="stretch", disabled=not count):
        _tags(con, "add_tags", selection, user, target, count)
    with cells[1].popover(
        BULK_ACTIONS["remove_tags"], icon=":material/label_off:", width="stretch", disabled=not count
    ):
        _tags(con, "remove_tags", selection, user, target, count)
    with cells[2].popover("Assign", icon=":material/person_pin:", width="stretch", disabled=not count):
        _assign(con, selection, user, target, count)
    with cells[3].popover("Subscription", icon=":material/mail:", width="stretch", disabled=not count):
        _subscription(con, selection, user, target, count)
    with cells[4].popover("Block", icon=":material/block:", width="stretch", disabled=not count):
        st.write("Blocked contacts leave every segment but Blocked, and their chat and inbox events are refused.")
        _run(con, "block", selection, user, None, f"Block {target}", count)
    with cells[5].popover("Unblock", icon=":material/lock_open:", width="stretch", disabled=not count):
        _run(con, "unblock", selection, user, None, f"Unblock {target}", count)
    with cells[6].popover("Delete", icon=":material/delete:", width="stretch", disabled=not count):
        _delete(con, selection, user, count, estimated)


def _job_finished(job: Job) -> None:
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1  # the table's selection starts afresh


def show_last_action() -> None:
    """The outcome of the action that ran before this rerun, once; a bulk job of this user's: progress, then outcome."""
    show_job(f"{BULK_JOB}:{session_user()}", on_finish=_job_finished, done_message=_job_message)
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
