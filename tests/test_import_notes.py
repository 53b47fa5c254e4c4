"""An exporter's "Notes" column (Outlook, Google, Thunderbird) imported as notes on the contacts' timelines
(issue 11 point 4)."""

import json
import subprocess
import sys
from pathlib import Path

from core.contacts.records import add_note
from core.importer import ImportOptions, auto_map, commit_import, mapping_targets, plan_import, read_table

ROOT = Path(__file__).resolve().parent.parent
OUTLOOK = (
    b"First Name,Last Name,E-mail Address,Mobile Phone,Notes\n"
    b'Ada,King,ada@example.com,,"Met at the conference.\nLikes, in order: maths, poetry."\n'
    b"Bob,Stone,bob@example.com,,  Call back in May  \n"
    b"Cy,Young,cy@example.com,,\n"
)


def imported(con, data: bytes, name: str = "outlook.csv", actor: str = "admin", **options):
    table = read_table(name, data)
    mapping = auto_map(con, table.headers, table.frame)
    plan = plan_import(con, table, ImportOptions(mapping=mapping, **options))
    result = commit_import(con, plan, actor)
    return mapping, plan, result


def notes(con) -> list[tuple]:
    return con.execute(
        "SELECT c.email, n.body, n.author FROM notes n JOIN contacts c USING (contact_id) "
        "ORDER BY c.email, n.created_at, n.note_id"
    ).fetchall()


def test_notes_map_by_themselves_and_each_contact_gets_its_exact_note(fresh_db):
    mapping, plan, result = imported(fresh_db, OUTLOOK)
    assert mapping["Notes"] == "note" and "note" in mapping_targets(fresh_db)
    assert plan.unmapped == [] and plan.warnings.height == 0 and result.created == 3
    assert notes(fresh_db) == [
        ("ada@example.com", "Met at the conference.\nLikes, in order: maths, poetry.", "admin"),
        ("bob@example.com", "Call back in May", "admin"),
    ]
    at = fresh_db.execute("SELECT DISTINCT created_at FROM notes").fetchall()
    imported_at = fresh_db.execute("SELECT imported_at FROM import_history").fetchall()
    assert at == imported_at
    logged = fresh_db.execute(
        "SELECT c.email, a.action FROM activity a JOIN contacts c USING (contact_id) "
        "WHERE a.action = 'note added' ORDER BY c.email"
    ).fetchall()
    assert logged == [("ada@example.com", "note added"), ("bob@example.com", "note added")]


def test_other_exporters_note_headers_map_and_unrelated_ones_do_not(fresh_db):
    headers = ["E-mail Address", "Note", "Description", "Comments"]
    mapping = auto_map(fresh_db, headers)
    assert (mapping["Note"], mapping["Description"], mapping["Comments"]) == ("note", "", "")


def test_importing_the_same_file_again_adds_no_note(fresh_db):
    imported(fresh_db, OUTLOOK)
    _, _, again = imported(fresh_db, OUTLOOK)
    assert again.updated == 3
    assert len(notes(fresh_db)) == 2
    assert fresh_db.execute("SELECT count(*) FROM activity WHERE action = 'note added'").fetchone() == (2,)


def test_an_update_adds_its_note_beside_the_earlier_ones(fresh_db):
    imported(fresh_db, OUTLOOK)
    ada = fresh_db.execute("SELECT contact_id FROM contacts WHERE email = 'ada@example.com'").fetchone()[0]
    add_note(fresh_db, ada, "Sent the brochure.", "admin")
    data = b"E-mail Address,Notes\nada@example.com,Met at the conference.\nbob@example.com,Asked for a demo\n"
    _, _, result = imported(fresh_db, data, name="later.csv", mode="update")
    assert result.updated == 2
    assert notes(fresh_db) == [
        ("ada@example.com", "Met at the conference.\nLikes, in order: maths, poetry.", "admin"),
        ("ada@example.com", "Sent the brochure.", "admin"),
        ("ada@example.com", "Met at the conference.", "admin"),  # differs from the latest note: added
        ("bob@example.com", "Call back in May", "admin"),
        ("bob@example.com", "Asked for a demo", "admin"),
    ]


def test_an_over_long_note_is_warned_and_the_contact_still_imported(fresh_db):
    long = "x" * 10_001
    data = f"E-mail Address,Notes\nada@example.com,{long}\nbob@example.com,{'y' * 10_000}\n".encode()
    _, plan, result = imported(fresh_db, data)
    assert result.created == 2 and result.rejected == 0
    assert plan.warnings.to_dicts() == [
        {
            "line": 2,
            "column": "Notes",
            "value": long,
            "reason": "the note is 10001 characters; the limit is 10,000",
            "action": "left out",
        }
    ]
    assert notes(fresh_db) == [("bob@example.com", "y" * 10_000, "admin")]


def test_rows_of_one_contact_keep_both_notes(fresh_db):
    data = b"E-mail Address,Notes\nada@example.com,First call\nada@example.com,Second call\n"
    _, plan, result = imported(fresh_db, data)
    assert (result.created, plan.combined) == (1, 1)
    assert notes(fresh_db) == [("ada@example.com", "First call\n\nSecond call", "admin")]


def test_the_cli_dry_run_shows_notes_as_mapped(tmp_path):
    db, csv = tmp_path / "c.duckdb", tmp_path / "outlook.csv"
    csv.write_bytes(OUTLOOK)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )

    assert cli("init", "--db", str(db)).returncode == 0
    dry = cli("import", str(csv), "--db", str(db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["created"], report["unmapped"], report["warnings"]) == (3, [], [])


def test_combined_notes_over_the_limit_keep_the_first_and_warn(fresh_db):
    first, second = "a" * 6_000, "b" * 6_000
    data = f"E-mail Address,Notes\nada@example.com,{first}\nada@example.com,{second}\n".encode()
    _, plan, result = imported(fresh_db, data)
    assert result.created == 1
    left_out = plan.warnings.filter(plan.warnings["column"] == "Notes").to_dicts()
    assert left_out == [
        {
            "line": 2,
            "column": "Notes",
            "value": second,
            "reason": "the notes of the combined rows would make one of 12002 characters; the limit is 10,000",
            "action": "left out (the first row's note is kept)",
        }
    ]
    assert notes(fresh_db) == [("ada@example.com", first, "admin")]
