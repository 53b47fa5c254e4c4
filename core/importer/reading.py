"""Reading an uploaded file into a frame of text cells: format, encoding and delimiter detected.

Every cell stays text here (`mapping` and `planning` decide what it means); each row keeps its line
number as a spreadsheet shows it (the header is line 1) and how many cells it had.
"""

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from core.errors import ContactsError
from core.vcard import looks_like_vcard

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_048_576  # the most rows a spreadsheet holds
MAX_CELL_BYTES = 32 * 1024 * 1024  # a bigger cell stops the read; smaller oversized cells reject their row
LINE, CELLS = "__line", "__cells"
DELIMITERS = (",", ";", "\t", "|")
_CHUNK_ROWS = 100_000
FAST_PATH_BYTES = 1_000_000  # below this the csv module alone reads the file
MOSTLY_UTF8 = "utf-8 (some bytes invalid)"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_LEGACY = [
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "iso8859_2",
    "iso8859_5",
    "iso8859_7",
    "iso8859_15",
    "shift_jis",
    "cp932",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
    "koi8_r",
    "koi8_u",
    "mac_roman",
]
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Office (XLS/DOC) file",
    b"\x1f\x8b": "a gzip archive",
}


@dataclass(frozen=True)
class RawTable:
    """A file as read: its column names in order and one text row per data row."""

    file_name: str
    headers: list[str]
    frame: pl.DataFrame  # the header columns, plus __line and __cells
    kind: str  # "csv" or "xlsx"
    encoding: str = "utf-8"
    delimiter: str = ","
    warnings: pl.DataFrame | None = None  # what reading itself skipped (a vCard's PHOTO, an unreadable card)

    @property
    def row_count(self) -> int:
        """How many data rows the file has."""
        return self.frame.height


def read_table(file_name: str, data: bytes, encoding: str | None = None) -> RawTable:
    """Read a CSV or XLSX upload (a CSV in `encoding` when given), or raise ContactsError saying why not."""
    if not data:
        raise ContactsError(f"{file_name} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ContactsError(
            f"{file_name} is {len(data) / 1024 / 1024:.0f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB."
        )
    if looks_like_vcard(file_name, data):
        table = _read_vcf(file_name, data)
    elif data.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm")):
        table = _read_xlsx(file_name, data)
    else:
        table = _read_csv(file_name, data, encoding)
    if table.frame.height == 0:
        raise ContactsError(f"{file_name} has a header row but no contacts under it.")
    if table.frame.height > MAX_ROWS:
        raise ContactsError(f"{file_name} has {table.frame.height:,} rows; the limit is {MAX_ROWS:,}.")
    return table


def detect_encoding(file_name: str, data: bytes, chosen: str | None = None) -> tuple[str, str]:
    """(encoding name, decoded text); refuses files that are not text.

    A BOM (UTF-8, UTF-16, UTF-32) or strict UTF-8 first; a file that is UTF-8 but for a few invalid bytes
    stays UTF-8 (those bytes read as U+FFFD, their lines warned about); otherwise charset-normalizer picks
    among the legacy code pages. `chosen` (the user's override) wins over all of it.
    """
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ContactsError(f"{file_name} is not a CSV or XLSX file (it looks like {what}).")
    if chosen:
        try:
            return chosen, data.decode(chosen, errors="replace")
        except LookupError:
            raise ContactsError(f"'{chosen}' is not an encoding this importer knows.", field="encoding") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, _decode(file_name, data, name)
    if b"\x00" in data[:65536]:
        raise ContactsError(f"{file_name} is not a CSV or XLSX file (it holds binary data).")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - invalid
    if multibyte > 0 and invalid <= multibyte:
        return MOSTLY_UTF8, text  # a few stray bytes in a UTF-8 file: never re-decode the whole file
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_LEGACY).best() or from_bytes(data).best()
    name = best.encoding if best is not None else "cp1252"
    text = data.decode(name, errors="replace")
    try:
        if data.decode("cp1252") == text:
            return "windows-1252", text  # the same text either way: name the code page Excel writes
    except UnicodeDecodeError:
        pass
    return name, text


def _decode(file_name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ContactsError(f"{file_name} says it is {encoding} but is not: byte {error.start} is invalid.") from None


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > max(2, len(sample) // 100)


def detect_delimiter(header_line: str) -> str:
    """The delimiter used most often in the header line, outside quotes (comma when none is)."""
    outside = "".join(header_line.split('"')[::2])
    counts = {delimiter: outside.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _clean_headers(raw: list[str]) -> list[str]:
    """Trimmed header names, made unique ('Phone', 'Phone (2)'); empty names become 'Column N'."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(raw, start=1):
        text = (name or "").strip().strip('"').strip() or f"Column {position}"
        seen[text] = seen.get(text, 0) + 1
        names.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return names


def _read_csv(file_name: str, data: bytes, chosen: str | None = None) -> RawTable:
    encoding, text = detect_encoding(file_name, data, chosen)
    if not text.strip():
        raise ContactsError(f"{file_name} is empty.")
    if _looks_binary(text):
        raise ContactsError(f"{file_name} is not a CSV or XLSX file (it holds binary data).")
    text = text.lstrip("\r\n")
    delimiter = detect_delimiter(text.split("\n", 1)[0])
    csv.field_size_limit(MAX_CELL_BYTES)
    source = io.StringIO(text, newline="")
    reader = csv.reader(source, delimiter=delimiter, skipinitialspace=True)
    try:
        first = next(reader)
        headed = not any(_DATA_CELL.search(cell or "") for cell in first)
        headers = _clean_headers(first) if headed else [f"Column {n}" for n in range(1, len(first) + 1)]
        if not headed:  # the first line is a contact (an email or phone where a name should be): read it too
            source = io.StringIO(text, newline="")
            reader = csv.reader(source, delimiter=delimiter, skipinitialspace=True)
        fast = _fast_rows(text[source.tell() :], delimiter, len(headers))
        frame = fast if fast is not None else _rows_to_frame(reader, len(headers))
        if not headed:
            frame = frame.with_columns(pl.col(LINE) - 1)
        frame = _resplit(frame, len(headers), delimiter)
    except StopIteration:
        raise ContactsError(f"{file_name} is empty.") from None
    except csv.Error as error:
        raise ContactsError(f"{file_name} cannot be read as CSV: {error}.") from None
    return RawTable(
        file_name,
        headers,
        frame.rename(dict(zip(_positional(len(headers)), headers, strict=True))),
        "csv",
        encoding,
        delimiter,
    )


# A header cell never holds an email address or a phone number; a first line that does is a contact.
_DATA_CELL = re.compile(r"^\s*(?:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|\+?[\d\s().\-]{7,})\s*$")
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def _fast_rows(body: str, delimiter: str, width: int) -> pl.DataFrame | None:
    """The data rows parsed by Polars, with cell counts from a quote-blind copy of the text; None when unsure.

    Polars pads short rows silently, so the cells are counted separately: with every quoted section removed,
    each remaining line is one record and its delimiters count its cells. When the two passes disagree on the
    number of records (or the file uses spaces before quotes, which Polars reads differently), the caller
    falls back to the csv module.
    """
    if f'{delimiter} "' in body or len(body) < FAST_PATH_BYTES:
        return None  # small files: the csv module is exact and fast enough
    lines = pl.Series(_QUOTED.sub("", body).split("\n")).str.strip_suffix("\r")
    counts = (
        pl.DataFrame({"text": lines})
        .with_columns(
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE),
            (pl.col("text").str.count_matches(delimiter, literal=True) + 1).cast(pl.Int32).alias(CELLS),
        )
        .filter(pl.col("text").str.strip_chars() != "")
    )
    header = delimiter.join(_positional(width + 8))
    try:
        values = pl.read_csv(
            f"{header}\n{body}".encode(),
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
            empty_string_is_null=False,
            quote_char='"',
        ).select(_positional(width))
    except pl.exceptions.PolarsError:
        return None
    if values.height != counts.height:
        return None
    frame = values.with_columns(counts[CELLS], counts[LINE])
    return frame.filter(~_blank_row(width))


def _resplit(frame: pl.DataFrame, width: int, delimiter: str) -> pl.DataFrame:
    """Rows read as one cell that hold another delimiter (a file mixing commas and tabs) split by that one."""
    lone = (pl.col(CELLS) == 1) & (width > 1)
    for other in DELIMITERS:
        if other == delimiter or not frame.filter(lone & pl.col("c0").str.contains(other, literal=True)).height:
            continue
        mixed = lone & pl.col("c0").str.contains(other, literal=True)
        parts = pl.col("c0").str.split(other)
        return frame.with_columns(
            *[
                pl.when(mixed).then(parts.list.get(index, null_on_oob=True)).otherwise(pl.col(name)).alias(name)
                for index, name in enumerate(_positional(width))
            ],
            pl.when(mixed).then(parts.list.len().cast(pl.Int32)).otherwise(pl.col(CELLS)).alias(CELLS),
        )
    return frame


def _positional(count: int) -> list[str]:
    return [f"c{index}" for index in range(count)]


def _rows_to_frame(rows: Iterable[Sequence[str | None]], width: int) -> pl.DataFrame:
    """Rows of cells into a frame, a chunk at a time; the row loop runs inside csv and zip, in C."""
    chunks, first_line = [], 2
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
        present = list(itertools.zip_longest(*chunk, fillvalue=""))[:width]
        columns: list[Sequence[str | None]] = [*present, *[[""] * len(chunk)] * (width - len(present))]
        part = pl.DataFrame(
            {
                name: pl.Series(name, list(values), dtype=pl.String)
                for name, values in zip(_positional(width), columns, strict=True)
            }
        ).with_columns(
            pl.Series(CELLS, list(map(len, chunk)), dtype=pl.Int32),
            pl.int_range(first_line, first_line + len(chunk), dtype=pl.Int64).alias(LINE),
        )
        chunks.append(part)
        first_line += len(chunk)
        if first_line - 2 > MAX_ROWS:
            break
    if not chunks:
        return pl.DataFrame(
            schema={**{name: pl.String for name in _positional(width)}, CELLS: pl.Int32, LINE: pl.Int64}
        )
    return pl.concat(chunks).filter(~_blank_row(width))


def _blank_row(width: int) -> pl.Expr:
    """A row with no text in any cell (a trailing empty line): not a contact and not an error."""
    return pl.all_horizontal([pl.col(name).fill_null("").str.strip_chars() == "" for name in _positional(width)])


def _read_vcf(file_name: str, data: bytes) -> RawTable:
    from core.vcard import read_vcards

    frame, warnings = read_vcards(file_name, data)
    headers = [c for c in frame.columns if c not in (LINE, CELLS)]
    return RawTable(file_name, headers, frame, "vcf", "utf-8", "", warnings)


def _read_xlsx(file_name: str, data: bytes) -> RawTable:
    """The first sheet through calamine (fastexcel), every cell as text, after a check of its declared size."""
    import fastexcel

    _check_sheet_size(file_name, data)
    try:
        raw = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string").to_polars()
    except Exception as error:  # calamine reports a corrupt part as several exception types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ContactsError(f"{file_name} is not a readable XLSX file (corrupt or truncated): {reason}.") from None
    if raw.height == 0 or all(value is None for value in raw.row(0)):
        raise ContactsError(f"{file_name} is empty.")
    headers = _clean_headers([value or "" for value in raw.row(0)])
    width = len(headers)
    frame = (
        raw.slice(1)
        .rename(dict(zip(raw.columns, _positional(width), strict=True)))
        .with_columns(
            pl.lit(width, dtype=pl.Int32).alias(CELLS),
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE),
        )
        .filter(~_blank_row(width))
    )
    return RawTable(file_name, headers, frame.rename(dict(zip(_positional(width), headers, strict=True))), "xlsx")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
MAX_XLSX_COLUMNS = 1_000
MAX_XLSX_CELLS = 60_000_000


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_sheet_size(file_name: str, data: bytes) -> None:
    """Refuse a sheet that declares more columns or cells than a contact list has, before reading any cell.

    A few kilobytes can declare a cell in column XFD or a million empty rows; reading them first costs gigabytes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sorted(
                (n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n)),
            )
            if not sheets:
                raise ContactsError(f"{file_name} is not a readable XLSX file (it has no worksheet).")
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096)
    except zipfile.BadZipFile as error:
        raise ContactsError(f"{file_name} is not a readable XLSX file (corrupt or truncated): {error}.") from None
    found = _DIMENSION.search(head)
    if found is None:
        return
    first_column, first_row = _column_number(found[1]), int(found[2])
    last_column, last_row = (_column_number(found[3]), int(found[4])) if found[3] else (first_column, first_row)
    columns, rows = last_column - first_column + 1, last_row - first_row + 1
    if columns > MAX_XLSX_COLUMNS:
        raise ContactsError(
            f"{file_name} declares {columns:,} columns (up to column {found[3].decode()}); a contact list has at most "
            f"{MAX_XLSX_COLUMNS:,}. Delete the empty columns at the right of the sheet and save it again."
        )
    if rows > MAX_ROWS + 1 or columns * rows > MAX_XLSX_CELLS:
        raise ContactsError(
            f"{file_name} declares {rows:,} rows by {columns:,} columns; the limit is {MAX_ROWS:,} rows and "
            f"{MAX_XLSX_CELLS:,} cells. Delete the empty rows under the data and save it again."
        )
