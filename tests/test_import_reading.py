"""Reading uploads: every bad file gets a clear message; encodings, delimiters and quoting are detected."""

from pathlib import Path

import pytest

from core.errors import ContactsError
from core.importer import reading
from core.importer.reading import read_table

FILES = Path(__file__).resolve().parent / "files" / "import"


def read(name: str):
    return read_table(name, (FILES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty.csv is empty."),
        ("blank_lines.csv", "blank_lines.csv is empty."),
        ("header_only.csv", "has a header row but no contacts under it"),
        ("image.csv", "is not a CSV or XLSX file (it looks like a PNG image)"),
        ("truncated.xlsx", "is not a readable XLSX file (corrupt or truncated)"),
        ("corrupt.xlsx", "is not a readable XLSX file (corrupt or truncated)"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(name, message):
    with pytest.raises(ContactsError) as raised:
        read(name)
    assert message in raised.value.message


def test_a_file_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    with pytest.raises(ContactsError, match="the limit is"):
        read_table("big.csv", b"Email\n" + b"a@example.com\n" * 20)


def test_a_file_over_the_row_limit_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    with pytest.raises(ContactsError, match="has 4 rows; the limit is 3"):
        read_table("rows.csv", b"Email\n" + b"a@example.com\n" * 4)


def test_binary_text_without_a_known_signature_is_refused():
    with pytest.raises(ContactsError, match="binary data"):
        read_table("x.csv", b"abc\x00\x01\x02" * 50)


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "first_row"),
    [
        ("utf8_bom_semicolon.csv", "utf-8-sig", ";", {"Prénom": "José", "Nom": "Núñez", "E-mail": "jose@example.com"}),
        ("utf16_tab.csv", "utf-16", "\t", {"Given name": "María", "Surname": "García"}),
        ("cp1252_pipe.csv", "windows-1252", "|", {"Last name": "Müller", "Company Name": "Café “Zürich”"}),
        (
            "quoted_newlines.csv",
            "utf-8",
            ",",
            {"First name": 'Ada "Countess"', "Address": "12 St James's Square\nLondon, UK"},
        ),
    ],
)
def test_encodings_delimiters_and_quoting_are_detected(name, encoding, delimiter, first_row):
    table = read(name)
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    row = table.frame.row(0, named=True)
    assert {key: row[key] for key in first_row} == first_row


def test_line_numbers_count_spreadsheet_rows_and_cells_are_counted():
    table = read("quoted_newlines.csv")
    assert table.frame["__line"].to_list() == [2, 3]
    ragged = read("bad_rows.csv")
    assert ragged.frame.filter(ragged.frame["__cells"] != 5)["__line"].to_list() == [3, 4]


def test_xlsx_is_read_as_text():
    table = read("contacts.xlsx")
    assert table.kind == "xlsx" and table.headers == ["First name", "Email", "Phone"]
    assert table.frame.select("First name", "Phone").rows() == [("Ada", "+44 20 7946 0958"), ("Alan", "")]


def test_headers_are_trimmed_and_made_unique():
    table = read_table("h.csv", b" Email , Email,\na@example.com,b@example.com,\n")
    assert table.headers == ["Email", "Email (2)", "Column 3"]


@pytest.mark.parametrize("name", ["bad_rows.csv", "utf8_bom_semicolon.csv", "cp1252_pipe.csv", "utf16_tab.csv"])
def test_the_fast_path_reads_exactly_what_the_csv_module_reads(monkeypatch, name):
    data = (FILES / name).read_bytes()
    exact = read_table(name, data).frame
    monkeypatch.setattr(reading, "FAST_PATH_BYTES", 0)
    monkeypatch.setattr(reading, "_rows_to_frame", lambda *args: pytest.fail("the fast path was not taken"))
    assert read_table(name, data).frame.equals(exact)


@pytest.mark.slow
def test_a_big_file_with_ragged_and_multiline_rows_reads_the_same_both_ways(monkeypatch):
    body = b'a,"b\nc",d\n' * 50_000 + b"short,row\n" + b"x,y,z,extra\n\n" + b"e,f,g\n" * 50_000
    data = b"One,Two,Three\n" + body
    fast = read_table("big.csv", data).frame
    monkeypatch.setattr(reading, "FAST_PATH_BYTES", 10**12)
    exact = read_table("big.csv", data).frame
    assert fast.equals(exact)
    assert exact.filter(exact["__cells"] != 3).select("__line", "__cells").rows() == [(50_002, 2), (50_003, 4)]
