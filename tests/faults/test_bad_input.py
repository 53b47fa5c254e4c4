"""The bad-input corpus (issue 14, point 8): each file is refused with a reason or imported with every row
accounted for; nothing crashes, no control character is stored, the database keeps every invariant."""

import io
from pathlib import Path

import polars as pl
import pytest

from core.errors import ContactsError
from core.exporting import export_view
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.queries import ListView
from tests.faults.invariants import check

FILES = Path(__file__).resolve().parents[1] / "files" / "import"
CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\x{202A}-\x{202E}\x{2066}-\x{2069}]"


def _xlsx(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_excel(buffer)
    return buffer.getvalue()


def _corpus() -> dict[str, tuple[str, bytes]]:
    wide = pl.DataFrame({"Email": ["wide@example.com"], **{f"Column {i}": [f"v{i}"] for i in range(1500)}})
    return {
        "empty": ("empty.csv", b""),
        "header only": ("header_only.csv", (FILES / "header_only.csv").read_bytes()),
        "binary": ("image.csv", (FILES / "image.csv").read_bytes()),
        "random bytes": ("noise.csv", bytes(range(256)) * 64),
        "truncated xlsx": ("truncated.xlsx", (FILES / "truncated.xlsx").read_bytes()),
        "corrupt xlsx": ("corrupt.xlsx", (FILES / "corrupt.xlsx").read_bytes()),
        "xlsx that is a csv": ("fake.xlsx", b"Email\na@example.com\n"),
        "wide xlsx": ("wide.xlsx", _xlsx(wide)),
        "10 MB cell": ("big.csv", b"Email,First name\nbig@example.com," + b"x" * 10_000_000 + b"\nok@example.com,Ok\n"),
        "NUL bytes": (
            "nul.csv",
            b"Email,First name,Company\nnul@example.com,Ad\x00a,Ac\x00me\nok@example.com,Ok,\x00\n",
        ),
        "bidi override": ("bidi.csv", "Email,First name\nrlo@example.com,evil\u202egnp.exe\n".encode()),
        "mixed encodings": ("mixed.csv", "Email,First name\nu@example.com,Zoë\n".encode() + b"c@example.com,Zo\xeb\n"),
        "formula cells": ("formula.csv", b'Email,Company\nf@example.com,=HYPERLINK("http://x")\n'),
        "only a BOM": ("bom.csv", b"\xef\xbb\xbf"),
        "quote never closed": ("quote.csv", b'Email,First name\nq@example.com,"never closed\n'),
    }


CORPUS = _corpus()


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_bad_file_is_refused_or_fully_accounted_for(fresh_db, tally, name):
    file_name, data = CORPUS[name]
    outcome = "refused"
    try:
        table = read_table(file_name, data)
        plan = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
        counts = plan.counts()
        commit_import(fresh_db, plan, "admin")
        outcome = f"imported {counts}"
    except ContactsError as error:
        assert error.message and "Traceback" not in error.message
    stored_control = fresh_db.execute(
        "SELECT count(*) FROM contacts WHERE regexp_matches(concat_ws('|', contact_id, first_name, last_name, "
        "company, email), ?)",
        [CONTROL],
    ).fetchall()[0][0]
    problems = check(fresh_db) + ([f"{stored_control} contacts hold control characters"] if stored_control else [])
    tally("bad-input corpus (import)", 1, bool(problems))
    assert problems == [], outcome


def test_a_formula_cell_is_kept_as_text_and_exported_harmless(fresh_db):
    file_name, data = CORPUS["formula cells"]
    table = read_table(file_name, data)
    plan = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
    commit_import(fresh_db, plan, "admin")
    exported = export_view(fresh_db, ListView(), "admin", "csv", all_fields=True).decode()
    assert "'=HYPERLINK" in exported and ",=HYPERLINK" not in exported
