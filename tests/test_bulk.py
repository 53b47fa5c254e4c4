"""Bulk actions: on chosen IDs or a whole view, one transaction each, with activity for every contact changed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact, get_contact
from core.db import open_database, rows, scalar
from core.db.connection import is_database_error
from core.errors import ContactsError, StaleContactError
from core.views import bulk
from core.views.bulk import (
    Selection,
    add_tags,
    assign_owner,
    remove_tags,
    selection_count,
    set_blocked,
    set_subscription,
)
from core.views.filters import parse_filter
from core.views.queries import ListView
from core.views.segments import save_segment, segment_count
from core.workspace import add_owner, define_custom_field

ROOT = Path(__file__).resolve().parent.parent
ACME = parse_filter({"conditions": [{"field": "email", "op": "contains", "value": "acme"}]})


@pytest.fixture
def crowd(fresh_db):
    """Twelve contacts: six at acme (a0..a5, the first two tagged VIP), six elsewhere (z0..z5)."""
    bootstrap_admin(fresh_db)
    add_owner(fresh_db, "maria", "Maria Lopez", actor="admin")
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", ["Free", "Pro"], actor="admin")
    for index in range(6):
        for prefix, domain in (("a", "acme.io"), ("z", "example.com")):
            create_contact(
                fresh_db,
                ContactInput(
                    contact_id=f"{prefix}{index}",
                    email=f"{prefix}{index}@{domain}",
                    tags=["VIP"] if prefix == "a" and index < 2 else [],
                    custom={"plan": "Pro"},
                ),
                "admin",
            )
    return fresh_db


def acme_view() -> Selection:
    return Selection(view=ListView(filter=ACME))


def tags_of(con, contact_id: str) -> list[str]:
    return get_contact(con, contact_id).tags


def activity(con, action: str) -> list[tuple]:
    return rows(con, "SELECT contact_id, actor, changes FROM activity WHERE action = ? ORDER BY contact_id", [action])


def test_with_nothing_selected_an_action_covers_the_whole_view(crowd):
    assert selection_count(crowd, acme_view(), "admin") == 6
    result = add_tags(crowd, acme_view(), ["Spring", "VIP"], "admin")
    assert (result.selected, result.changed) == (6, 6)
    assert tags_of(crowd, "a0") == ["VIP", "Spring"]
    assert tags_of(crowd, "a5") == ["Spring", "VIP"]
    assert tags_of(crowd, "z0") == []


def test_activity_records_before_and_after_for_every_contact_changed(crowd):
    add_tags(crowd, Selection(ids=["a0", "a2", "z0"]), "VIP, Spring", "admin")
    logged = activity(crowd, "tags added")
    assert [(cid, actor) for cid, actor, _ in logged] == [("a0", "admin"), ("a2", "admin"), ("z0", "admin")]
    assert json.loads(logged[0][2]) == {"tags": {"before": ["VIP"], "after": ["VIP", "Spring"]}}
    assert json.loads(logged[1][2]) == {"tags": {"before": [], "after": ["VIP", "Spring"]}}


def test_contacts_that_would_not_change_are_left_alone(crowd):
    before = get_contact(crowd, "a0").version
    result = add_tags(crowd, Selection(ids=["a0", "a1"]), ["VIP"], "admin")
    assert (result.selected, result.changed) == (2, 0)
    assert get_contact(crowd, "a0").version == before and activity(crowd, "tags added") == []


def test_remove_tags(crowd):
    result = remove_tags(crowd, acme_view(), ["VIP", "Nope"], "admin")
    assert (result.selected, result.changed) == (6, 2)
    assert tags_of(crowd, "a0") == [] and get_contact(crowd, "a0").version == 2
    assert json.loads(activity(crowd, "tags removed")[0][2]) == {"tags": {"before": ["VIP"], "after": []}}


def test_assign_and_unassign_an_owner(crowd):
    assert assign_owner(crowd, acme_view(), "maria", "admin").changed == 6
    assert segment_count(crowd, "unassigned", "admin") == 6
    changes = [json.loads(c) for _, _, c in activity(crowd, "updated")]
    assert changes[0] == {"owner_id": {"before": None, "after": "maria"}}
    assert assign_owner(crowd, Selection(ids=["a0"]), "", "admin").changed == 1
    assert get_contact(crowd, "a0").owner_id is None
    with pytest.raises(ContactsError, match="'ghost' is not an owner"):
        assign_owner(crowd, acme_view(), "ghost", "admin")


def test_update_email_and_sms_subscription(crowd):
    assert set_subscription(crowd, acme_view(), "email", "unsubscribed", "admin").changed == 6
    assert set_subscription(crowd, Selection(ids=["z1"]), "sms", "subscribed", "admin").changed == 1
    assert get_contact(crowd, "a3").email_subscription == "unsubscribed"
    assert get_contact(crowd, "z1").sms_subscription == "subscribed"
    with pytest.raises(ContactsError, match="must be one of"):
        set_subscription(crowd, acme_view(), "email", "maybe", "admin")


def test_block_moves_the_view_to_blocked_and_unblock_brings_it_back(crowd):
    saved = save_segment(crowd, "Acme", ACME, "admin")
    assert set_blocked(crowd, Selection(view=ListView(segment=saved.key)), True, "admin").changed == 6
    assert segment_count(crowd, saved.key, "admin") == 0
    assert segment_count(crowd, "blocked", "admin") == 6
    assert get_contact(crowd, "a1").blocked_on is not None
    assert len(activity(crowd, "blocked")) == 6
    assert set_blocked(crowd, Selection(view=ListView(segment="blocked")), False, "admin").changed == 6
    assert segment_count(crowd, saved.key, "admin") == 6


def test_delete_needs_the_count_typed_and_removes_everything(crowd):
    with pytest.raises(ContactsError, match="Type 6 to confirm"):
        bulk.delete(crowd, acme_view(), "5", "admin")
    assert segment_count(crowd, "all", "admin") == 12
    result = bulk.delete(crowd, acme_view(), "6", "admin")
    assert (result.selected, result.changed) == (6, 6)
    assert segment_count(crowd, "all", "admin") == 6
    # the custom values went first, yet the view (which reads them) was fixed before anything was deleted
    assert scalar(crowd, "SELECT count(*) FROM custom_values WHERE contact_id LIKE 'a%'") == 0
    assert scalar(crowd, "SELECT count(*) FROM activity WHERE contact_id LIKE 'a%'") == 0
    assert scalar(crowd, "SELECT count(DISTINCT contact_id) FROM deletion_log") == 6


def test_a_selection_is_ids_or_a_view_never_both_or_neither():
    with pytest.raises(ValueError):
        Selection()
    with pytest.raises(ValueError):
        Selection(ids=["a"], view=ListView())


def test_agents_cannot_bulk_block_assign_or_delete(crowd):
    for action in (
        lambda: set_blocked(crowd, acme_view(), True, "maria"),
        lambda: assign_owner(crowd, acme_view(), "maria", "maria"),
        lambda: bulk.delete(crowd, acme_view(), 6, "maria"),
    ):
        with pytest.raises(ContactsError, match="Only admins"):
            action()
    assert segment_count(crowd, "all", "admin") == 12


def test_an_agents_bulk_tags_reach_only_their_own_and_unassigned_contacts(crowd):
    add_owner(crowd, "li", "Li", actor="admin")
    assign_owner(crowd, Selection(ids=["a0"]), "li", "admin")
    assign_owner(crowd, Selection(ids=["a1"]), "maria", "admin")
    result = add_tags(crowd, acme_view(), ["X"], "maria")
    assert (result.selected, result.changed) == (5, 5)  # a0 is Li's: left out
    assert "X" not in tags_of(crowd, "a0") and "X" in tags_of(crowd, "a1") and "X" in tags_of(crowd, "a3")


def test_a_failure_part_way_leaves_nothing_changed(crowd, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # the activity has been written when the UPDATE fails: the transaction must take it back
    monkeypatch.setattr(
        bulk, "scalar", lambda con, sql, params=None: fail() if "UPDATE" in sql else scalar(con, sql, params)
    )
    with pytest.raises(RuntimeError):
        assign_owner(crowd, acme_view(), "maria", "admin")
    assert activity(crowd, "updated") == [] and get_contact(crowd, "a3").owner_id is None


def test_a_failure_while_rewriting_tags_leaves_every_contact_in_place(crowd, monkeypatch):
    def delete_then_fail(con, rewritten):
        con.execute(f"DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM {rewritten})")
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "_replace_rows", delete_then_fail)
    with pytest.raises(RuntimeError):
        add_tags(crowd, acme_view(), ["X"], "admin")
    assert segment_count(crowd, "all", "admin") == 12
    assert activity(crowd, "tags added") == [] and tags_of(crowd, "a0") == ["VIP"]


def test_run_bulk_dispatches_by_name(crowd):
    assert bulk.run_bulk(crowd, "add_tags", Selection(ids=["z0"]), "admin", ["New"]).changed == 1
    assert bulk.run_bulk(crowd, "sms_subscription", Selection(ids=["z0"]), "admin", "unsubscribed").changed == 1
    assert bulk.run_bulk(crowd, "block", Selection(ids=["z0"]), "admin").changed == 1
    with pytest.raises(ContactsError, match="no bulk action"):
        bulk.run_bulk(crowd, "explode", Selection(ids=["z0"]), "admin")  # type: ignore[arg-type]


# --- the command line ---------------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def crowd_file(tmp_path: Path) -> Path:
    path = tmp_path / "bulk.duckdb"
    con = open_database(path)
    bootstrap_admin(con)
    bootstrap_admin(con)
    for index in range(4):
        create_contact(con, ContactInput(contact_id=f"a{index}", email=f"a{index}@acme.io"), "admin")
        create_contact(con, ContactInput(contact_id=f"z{index}", email=f"z{index}@example.com"), "admin")
    con.close()
    return path


@pytest.mark.slow
def test_cli_bulk_tags_a_filter_and_search_sees_it(crowd_file):
    acme = json.dumps({"conditions": [{"field": "email", "op": "contains", "value": "acme"}]})
    done = cli("bulk", "add-tags", "--db", str(crowd_file), "--filter", acme, "--tags", "Acme", "Q3")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"action": "tags added", "selected": 4, "changed": 4}
    tagged = json.dumps({"conditions": [{"field": "tags", "op": "has_all", "value": ["Acme", "Q3"]}]})
    found = json.loads(cli("search", "", "--db", str(crowd_file), "--filter", tagged).stdout)
    assert found["total"] == 4


@pytest.mark.slow
def test_cli_segments_save_then_bulk_over_the_segment(crowd_file):
    acme = json.dumps({"conditions": [{"field": "email", "op": "ends_with", "value": "acme.io"}]})
    saved = cli("segments", "save", "Acme", "--db", str(crowd_file), "--filter", acme)
    assert saved.returncode == 0, saved.stderr
    assert {"name": "Acme", "contacts": 4}.items() <= json.loads(saved.stdout)[-1].items()
    assert json.loads(cli("search", "a1", "--segment", "Acme", "--db", str(crowd_file)).stdout)["total"] == 1
    assert cli("bulk", "delete", "--db", str(crowd_file), "--segment", "Acme").returncode == 1
    done = cli("bulk", "delete", "--db", str(crowd_file), "--segment", "Acme", "--yes")
    assert json.loads(done.stdout)["changed"] == 4
    assert json.loads(cli("search", "", "--db", str(crowd_file)).stdout)["total"] == 4


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bulk", "block"], "Choose the contacts with --segment, --filter or --ids"),
        (["bulk", "assign", "--ids", "a0", "--owner", "ghost"], "'ghost' is not an owner"),
        (["bulk", "add-tags", "--filter", '{"conditions": 1}'], "not valid JSON of the right shape"),
        (
            ["search", "", "--filter", '{"conditions": [{"field": "email", "op": "greater", "value": 1}]}'],
            "cannot be filtered with 'greater'",
        ),
    ],
)
def test_cli_errors_are_one_line_and_non_zero(crowd_file, args, message):
    done = cli(*args, "--db", str(crowd_file))
    assert done.returncode != 0
    assert message in done.stderr and done.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("committed", [True, False], ids=["edit-committed", "edit-still-open"])
def test_an_edit_by_another_connection_while_tags_are_rewritten_is_never_lost(crowd, monkeypatch, committed):
    """One of the two writers fails (which one is DuckDB's choice); neither silently undoes the other."""
    other = crowd.cursor()
    replace_rows = bulk._replace_rows
    edit_refused = []

    def meanwhile(con, rewritten):
        other.execute("BEGIN TRANSACTION")
        try:
            other.execute("UPDATE contacts SET company = 'Concurrent', version = version + 1 WHERE contact_id = 'a3'")
            if committed:
                other.execute("COMMIT")
        except Exception as error:  # a write conflict on either store (PostgreSQL: the row lock not granted)
            if not is_database_error(error):
                raise
            edit_refused.append(True)
            other.execute("ROLLBACK")
        replace_rows(con, rewritten)

    monkeypatch.setattr(bulk, "_replace_rows", meanwhile)
    try:
        add_tags(crowd, acme_view(), ["Spring"], "admin")
        bulk_refused = False
    except StaleContactError as error:
        assert "changed by someone else" in error.message
        bulk_refused = True
    if not committed and not edit_refused:
        try:
            other.execute("COMMIT")
        except Exception as error:
            if not is_database_error(error):
                raise
            edit_refused.append(True)
    assert bool(edit_refused) != bulk_refused  # exactly one of them failed
    a3 = get_contact(crowd, "a3")
    if bulk_refused:
        assert (a3.company, a3.tags) == ("Concurrent", [])
    else:
        assert (a3.company, a3.tags) == (None, ["Spring"])
