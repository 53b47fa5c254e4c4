"""Dangerous defaults refused and every CSV neutralised (issue 14, points 5 and 6), in-process through the CLI."""

import json
from pathlib import Path

import polars as pl
import pytest

from core.cli import main
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.errors import ContactsError
from core.exporting import csv_bytes
from core.importer import ImportOptions, auto_map, plan_import, read_table
from core.views.bulk import Selection, delete
from core.views.filters import parse_filter
from core.views.queries import ListView
from tests.faults.workspace import open_workspace


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "safety.duckdb"
    con = open_workspace(path)
    for index in range(3):
        create_contact(con, ContactInput(email=f"p{index}@example.com", company="=HYPERLINK(1)"), "admin")
    con.close()
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    "view", [ListView(), ListView(segment="all", filter=parse_filter({"conditions": []})), ListView(search="  ")]
)
def test_a_delete_of_an_unfiltered_view_is_refused_unless_everything_is_meant(fresh_db, add_contact, view):
    add_contact(fresh_db, email="a@example.com")
    with pytest.raises(ContactsError, match="every contact"):
        delete(fresh_db, Selection(view=view), 1, "admin")
    assert delete(fresh_db, Selection(view=view, everything=True), 1, "admin").changed == 1


def test_bulk_delete_with_an_empty_filter_needs_all(capsys, db):
    status, _, err = run(capsys, "bulk", "delete", "--filter", '{"conditions": []}', "--yes", "--db", str(db))
    assert status == 1 and "every contact" in err
    status, out, _ = run(capsys, "bulk", "delete", "--all", "--yes", "--db", str(db))
    assert status == 0 and json.loads(out)["changed"] == 3


@pytest.mark.parametrize(
    "command",
    [
        ["import", "{csv}", "--dry-run"],
        ["search", "x"],
        ["export", "--out", "{out}"],
        ["duplicates", "--out", "{out}"],
        ["bulk", "block", "--ids", "x"],
        ["backup", "--out", "{out}"],
        ["ingest", "{csv}"],
    ],
)
def test_a_command_on_a_missing_database_creates_nothing(capsys, tmp_path, command):
    missing = tmp_path / "typo" / "contacts.duckdb"
    (tmp_path / "in.csv").write_text("email\na@example.com\n")
    args = [a.format(csv=tmp_path / "in.csv", out=tmp_path / "out.csv") for a in command]
    status, _, err = run(capsys, *args, "--db", str(missing))
    assert status == 1 and "There is no database" in err
    assert not missing.parent.exists()


def test_init_creates_an_empty_workspace_once(capsys, tmp_path):
    path = tmp_path / "new" / "contacts.duckdb"
    status, out, _ = run(capsys, "init", "--db", str(path))
    assert status == 0 and json.loads(out)["schema_version"] >= 11 and path.exists()
    assert run(capsys, "init", "--db", str(path))[0] == 1


def test_an_import_where_every_row_is_rejected_exits_non_zero(capsys, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("email\nnot an email\nnor this\n")
    status, out, _ = run(capsys, "import", str(bad), "--db", str(db))
    assert status == 3 and json.loads(out)["rejected"] == 2


def test_two_new_fields_reducing_to_one_key_are_refused_with_both_names(fresh_db):
    table = read_table("f.csv", b"email,Foo!,Foo?\na@example.com,1,2\n")
    mapping = auto_map(fresh_db, table.headers) | {"Foo!": "new:Foo!", "Foo?": "new:Foo?"}
    with pytest.raises(ContactsError, match="'Foo!' and 'Foo\\?'"):
        plan_import(fresh_db, table, ImportOptions(mapping=mapping))


@pytest.mark.parametrize("cell", ["=1+1", "+A1", "-A1+B1", "@SUM(A1)", "\tx", "\rx"])
def test_every_csv_neutralises_formula_cells(cell):
    written = pl.read_csv(csv_bytes(pl.DataFrame({"value": [cell, "ok"]})), infer_schema=False)
    assert written["value"].to_list() == ["'" + cell, "ok"]


def test_duplicates_out_neutralises_formulas(capsys, tmp_path):
    path = tmp_path / "dupes.duckdb"
    con = open_workspace(path)
    for contact_id in ("=cmd|x", "@twin"):  # contact IDs may start so: the file must not run them
        create_contact(con, ContactInput(contact_id=contact_id, email="same@example.com"), "admin")
    con.close()
    out = tmp_path / "groups.csv"
    assert run(capsys, "duplicates", "--db", str(path), "--out", str(out))[0] == 0
    ids = pl.read_csv(out, infer_schema=False)["contact_id"].to_list()
    assert sorted(ids) == ["'=cmd|x", "'@twin"]
