"""`python -m core duplicates` and `merge`, run as a user would, and the FEBRL accuracy the issue asks for."""

import csv
import json
from pathlib import Path

import pytest
from conftest import AddContact
from test_cli import cli
from test_duplicates import people

from bench.accuracy import TARGET_F1, febrl_accuracy
from core.accounts.users import bootstrap_admin
from core.db import open_database


@pytest.fixture
def dup_db(tmp_path: Path, add_contact: AddContact) -> Path:
    path = tmp_path / "dups.duckdb"
    fill_dups(path, add_contact)
    return path


def fill_dups(target: Path | str, add_contact: AddContact) -> None:
    """The admin, test_duplicates' people and two stored Anas (e1, e2) in the database at `target` (a file or a URL)."""
    con = open_database(target)
    bootstrap_admin(con)
    people(con, add_contact)
    add_contact(con, "e1", stored=True, email="Ana.Silva@gmail.com", first_name="Ana", tags=["vip"])
    add_contact(
        con,
        "e2",
        stored=True,
        email="anasilva+promo@gmail.com",
        first_name="Ana",
        last_name="Silva",
        tags=["newsletter"],
    )
    con.close()


@pytest.mark.slow
def test_duplicates_writes_one_row_per_contact_in_a_group(dup_db: Path, tmp_path: Path):
    out = tmp_path / "groups.csv"
    done = cli("duplicates", "--db", str(dup_db), "--out", str(out), "--exact-only")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["groups"], summary["exact_groups"], summary["contacts"]) == (1, 1, 2)
    with out.open(newline="") as handle:
        found = list(csv.DictReader(handle))
    assert list(found[0]) == ["group_id", "contact_id", "linked_to", "score", "kind", "evidence"]
    assert [(row["group_id"], row["contact_id"], row["linked_to"], row["kind"]) for row in found] == [
        ("e1", "e1", "e2", "exact"),
        ("e1", "e2", "e1", "exact"),
    ]
    assert found[0]["evidence"] == "same email" and float(found[0]["score"]) == 1.0


@pytest.mark.slow
def test_duplicates_reports_each_blocking_rules_pairs(dup_db: Path, tmp_path: Path):
    done = cli("duplicates", "--db", str(dup_db), "--out", str(tmp_path / "groups.csv"))
    assert done.returncode == 0, done.stderr
    rules = {count["rule"]: count for count in json.loads(done.stdout)["rules"]}
    assert {"first and last name", "mailbox name", "identity value"} <= set(rules)
    assert set(rules["first and last name"]) == {"rule", "pairs", "left_out", "largest_block"}
    assert sum(count["pairs"] for count in rules.values()) >= 1
    # A few people: nothing left out, but the 60 mailboxes person0@ ... person59@, one name without digits.
    assert rules["mailbox name without digits"]["left_out"] == 60 * 59 // 2
    assert all(count["left_out"] == 0 for rule, count in rules.items() if rule != "mailbox name without digits")


@pytest.mark.slow
def test_duplicates_refuses_a_score_outside_zero_to_one(dup_db: Path, tmp_path: Path):
    done = cli("duplicates", "--db", str(dup_db), "--out", str(tmp_path / "x.csv"), "--min-score", "1.5")
    assert done.returncode != 0 and "between 0 and 1" in done.stderr


@pytest.mark.slow
def test_merge_preview_then_merge(dup_db: Path):
    preview = cli("merge", "--db", str(dup_db), "--primary", "e2", "--secondary", "e1", "--preview")
    assert preview.returncode == 0, preview.stderr
    shown = json.loads(preview.stdout)
    assert shown["primary_id"] == "e2" and sorted(shown["tags"]) == ["newsletter", "vip"]
    email = next(field for field in shown["fields"] if field["key"] == "email")
    assert email["source_id"] == "e2"
    assert open_database(dup_db).execute("SELECT count(*) FROM contacts WHERE contact_id = 'e1'").fetchall() == [(1,)]

    merged = cli("merge", "--db", str(dup_db), "--primary", "e2", "--secondary", "e1")
    assert merged.returncode == 0, merged.stderr
    contact = json.loads(merged.stdout)
    assert contact["contact_id"] == "e2" and sorted(contact["tags"]) == ["newsletter", "vip"]
    con = open_database(dup_db)
    assert con.execute("SELECT count(*) FROM contacts WHERE contact_id = 'e1'").fetchall() == [(0,)]


@pytest.mark.slow
def test_merge_of_one_contact_is_refused(dup_db: Path):
    done = cli("merge", "--db", str(dup_db), "--primary", "e1", "--secondary", "e1")
    assert done.returncode == 1 and done.stderr.startswith("error:")


@pytest.mark.slow
@pytest.mark.parametrize("number", [2, 3])
def test_febrl_accuracy_meets_the_target(number: int):
    result, _blanked = febrl_accuracy(number)
    assert result.f1 >= TARGET_F1, result
