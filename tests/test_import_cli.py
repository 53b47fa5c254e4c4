"""`python -m core import` and `export`, run as a user would."""

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from core.accounts.users import bootstrap_admin
from core.db import open_database, scalar

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "files" / "import"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The database the commands are given (`--db`), not yet created: a DuckDB file here, a new PostgreSQL
    database's URL in tests/postgres/rerun."""
    return str(tmp_path / "c.duckdb")


def count(db: str) -> int:
    con = open_database(db)
    bootstrap_admin(con)
    try:
        return scalar(con, "SELECT count(*) FROM contacts")
    finally:
        con.close()


@pytest.mark.slow
def test_import_prints_the_report_and_dry_run_writes_nothing(db):
    assert cli("init", "--db", db).returncode == 0  # import never creates a database (a typo in --db)
    dry = cli("import", str(FILES / "bad_rows.csv"), "--db", db, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert {k: report[k] for k in ("created", "updated", "skipped", "rejected")} == {
        "created": 7,
        "updated": 0,
        "skipped": 0,
        "rejected": 1,
    }
    nothing = "nothing identifies the row: no valid contact ID, email, phone, name or company"
    assert report["errors"] == [{"line": 5, "column": "", "reason": nothing}]
    assert report["warnings"][0] == {
        "line": 3,
        "column": "",
        "value": "",
        "reason": "the row has 2 cells but the header has 5",
        "action": "padded at the end",
    }
    assert report["encoding"] == "utf-8" and report["unmapped"] == ["Plan", "Score"]
    assert count(db) == 0
    done = cli("import", str(FILES / "bad_rows.csv"), "--db", db, "--map", "Plan=new:Plan", "Score=")
    assert json.loads(done.stdout)["created"] == 7 and count(db) == 7
    again = cli("import", str(FILES / "bad_rows.csv"), "--db", db, "--mode", "create")
    assert (json.loads(again.stdout)["skipped"], count(db)) == (7, 7)


@pytest.mark.slow
def test_a_bad_file_exits_non_zero_with_one_line(tmp_path):
    done = cli("import", str(FILES / "image.csv"), "--db", str(tmp_path / "c.duckdb"))
    assert done.returncode == 1
    assert done.stderr.strip() == "error: image.csv is not a CSV or XLSX file (it looks like a PNG image)."


@pytest.mark.slow
def test_export_writes_the_searched_view(db, tmp_path):
    assert cli("init", "--db", db).returncode == 0
    cli("import", str(FILES / "quoted_newlines.csv"), "--db", db)
    out = tmp_path / "out.csv"
    done = cli("export", "--db", db, "--out", str(out), "--search", "alan")
    assert done.returncode == 0, done.stderr
    assert pl.read_csv(out)["Email"].to_list() == ["alan@example.com"]
    assert cli("export", "--db", db, "--out", str(out), "--headers", "keys").returncode == 0
    assert "email" in pl.read_csv(out).columns
    parquet = tmp_path / "all.parquet"
    assert cli("export", "--db", db, "--out", str(parquet)).returncode == 0
    assert pl.read_parquet(parquet).height == 2


@pytest.mark.slow
def test_the_reading_choices_can_be_given_on_the_command_line(db, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("Email,Birthday,Plan\nada@example.com,03/04/1990,Pro\n", encoding="utf-8")
    assert cli("init", "--db", db).returncode == 0
    dry = json.loads(cli("import", str(data), "--db", db, "--dry-run").stdout)
    assert (dry["date_orders"], dry["unmapped"]) == ({"Birthday": "month first"}, ["Plan"])  # the country: US
    done = cli("import", str(data), "--db", db, "--date-order", "Birthday=day", "--keep-unmapped")
    assert json.loads(done.stdout)["date_orders"] == {"Birthday": "day first"}
    con = open_database(db)
    try:
        assert con.execute("SELECT birthday::VARCHAR FROM contacts").fetchall() == [("1990-04-03",)]
        assert con.execute("SELECT key FROM custom_fields").fetchall() == [("plan",)]
    finally:
        con.close()
    assert cli("import", str(data), "--db", db, "--date-order", "Birthday=sideways").returncode != 0
