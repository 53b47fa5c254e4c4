"""XLSX through calamine (fastexcel): text cells, numbers and dates; a guard on the sheet's declared size."""

import io
import re
import zipfile
from datetime import date

import openpyxl
import pytest

from core.errors import ContactsError
from core.importer import ImportOptions, auto_map, plan_import, read_table


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def patched(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML rewritten."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item, change(body) if item.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_cells_are_read_as_text_numbers_whole_and_dates_as_iso(fresh_db):
    data = workbook([["Email", "Phone", "Birthday", "Score"], ["ada@example.com", 4915123031275, date(1990, 4, 23), 2]])
    table = read_table("people.xlsx", data)
    assert table.frame.select("Email", "Phone", "Score").row(0) == ("ada@example.com", "4915123031275", "2")
    plan = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
    assert plan.staged["birthday"][0] == date(1990, 4, 23)


def test_a_cell_in_column_xfd_is_refused_before_reading(fresh_db):
    book = openpyxl.Workbook()
    book.active["A1"], book.active["A2"], book.active["XFD1"] = "Email", "ada@example.com", "x"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ContactsError, match="declares 16,384 columns"):
        read_table("wide.xlsx", buffer.getvalue())


def test_millions_of_declared_empty_rows_are_refused(fresh_db):
    data = patched(
        workbook([["Email"], ["ada@example.com"]]),
        lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:Z5000000"', xml),
    )
    with pytest.raises(ContactsError, match="declares 5,000,000 rows"):
        read_table("tall.xlsx", data)


def test_a_corrupt_sheet_in_a_valid_zip_gives_one_line(fresh_db):
    data = patched(workbook([["Email"], ["ada@example.com"]]), lambda xml: xml[: len(xml) // 2])
    with pytest.raises(ContactsError) as raised:
        read_table("broken.xlsx", data)
    assert (
        raised.value.message.startswith("broken.xlsx is not a readable XLSX file") and "\n" not in raised.value.message
    )
