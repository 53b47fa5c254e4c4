"""The command line, run as a user would: `python -m core ...` in a subprocess."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.accounts.users import bootstrap_admin
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def fill_small(target: Path | str) -> None:
    """The admin, seven Marias and a Zed with a phone in the database at `target` (a file or a URL)."""
    con = open_database(target)
    bootstrap_admin(con)
    for index in range(7):
        create_contact(
            con, ContactInput(first_name="Maria", last_name=f"Lopez{index}", email=f"m{index}@x.example"), "admin"
        )
    create_contact(con, ContactInput(first_name="Zed", phone="+1 415 555 0199"), "admin")
    con.close()


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    """A small DuckDB file, for what only a file has (its lock)."""
    path = tmp_path / "cli.duckdb"
    fill_small(path)
    return path


@pytest.fixture
def small_db(small_file: Path) -> Path | str:
    """The database the commands are given (`--db`): the DuckDB file here, a PostgreSQL URL in tests/postgres/rerun."""
    return small_file


@pytest.mark.slow
def test_help_lists_the_commands():
    done = cli("--help")
    assert done.returncode == 0
    for command in ("demo", "search"):
        assert command in done.stdout


@pytest.mark.slow
def test_search_prints_the_total_of_every_match_and_one_page(small_db):
    done = cli("search", "maria", "--db", str(small_db), "--limit", "3")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == 7
    assert len(result["contacts"]) == 3
    assert {c["first_name"] for c in result["contacts"]} == {"Maria"}


def test_search_by_phone_in_another_format(small_db):
    result = json.loads(cli("search", "(415) 555-0199", "--db", str(small_db)).stdout)
    assert [c["first_name"] for c in result["contacts"]] == ["Zed"]


def test_an_unknown_segment_is_one_line_and_non_zero(small_db):
    done = cli("search", "x", "--segment", "nope", "--db", str(small_db))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "no segment 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_missing_database_is_not_created(tmp_path):
    done = cli("search", "x", "--db", str(tmp_path / "typo.duckdb"))
    assert done.returncode != 0 and "There is no database" in done.stderr
    assert not (tmp_path / "typo.duckdb").exists()


@pytest.mark.slow
def test_a_database_held_by_the_app_is_refused_in_one_line(small_file):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from core.db import open_database; "
            "con = open_database(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(small_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = small_file.stat().st_mtime
        done = cli("search", "maria", "--db", str(small_file))
        assert done.returncode != 0
        assert done.stderr.strip().splitlines() == [done.stderr.strip()]
        assert "in use by another process" in done.stderr and "Traceback" not in done.stderr
        time.sleep(0.1)
        assert small_file.stat().st_mtime == before
    finally:
        holder.kill()
        holder.wait()
