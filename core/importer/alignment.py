"""Rows of the wrong length: which column a group of short rows lacks, found from their values.

An exporter that leaves one column out of some rows writes them one cell short, so every value after the
gap sits one column to the left. For the most common short length, each position of the missing cell is
tried and the alignment whose values best fit their mapped fields (emails under email, IP addresses under
IP address...) is kept; with no better fit the cell is missing at the end (the row is padded). The user may
pick another column. Other short rows are padded at the end; long rows keep their extra cells as ignored.
"""

from dataclasses import dataclass

import polars as pl

from core.importer.reading import CELLS, LINE

_PHONE = r"^\+?[\d\s()\-/]{6,}$|^\+?\d{1,4}(?:[.\s]\d{2,4}){2,}$"  # dots only as Europeans group digits
_FITS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "other_emails": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "phone": _PHONE,
    "other_phones": _PHONE,
    "ip_address": r"^(?:\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+:[0-9a-fA-F:]+$",
    "website": r"^(?:https?://)?[\w\-]+(?:\.[\w\-]+)+(?:/\S*)?$",
    "birthday": r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}$",
    "postal_code": r"^[\w\- ]{3,10}$",
    "first_name": r"^[^\d@]+$",
    "last_name": r"^[^\d@]+$",
    "full_name": r"^[^\d@]+$",
    "company": r"^[^@]+$",
    "contact_id": r"^\S+$",
    "country": r"^[A-Za-z .'\-]{2,}$",
    "city": r"^[^\d@]+$",
}


@dataclass(frozen=True)
class Alignment:
    """How the short rows of one length were read: which column they lack (None: the last ones)."""

    cells: int
    rows: int
    missing: str | None
    chosen_by: str  # "values" or "you"


def find_alignment(
    source: pl.DataFrame, headers: list[str], mapping: dict[str, str], chosen: str | None = None
) -> Alignment | None:
    """The alignment of the most common short length (one cell short), by values or by the user's choice."""
    width = len(headers)
    short = source.filter(pl.col(CELLS) == width - 1)
    if short.height == 0:
        return None
    if chosen is not None:
        return Alignment(width - 1, short.height, chosen or None, "you")
    scores = {position: _score(_shifted(short, headers, position), mapping) for position in range(width)}
    best = max(scores.values())
    # Ties go to the latest position: missing at the end is what padding means, so it wins unless beaten.
    position = max(p for p, score in scores.items() if score == best)
    return Alignment(width - 1, short.height, headers[position] if position < width - 1 else None, "values")


def _shifted(frame: pl.DataFrame, headers: list[str], position: int) -> pl.DataFrame:
    """Cells after `position` moved one column right, `position` left blank (cells as read fill from the left)."""
    moved = [
        pl.col(headers[index - 1]).alias(headers[index]) if index > position else pl.col(headers[index])
        for index in range(len(headers))
    ]
    blank = [pl.lit(None, pl.String).alias(headers[position])]
    return frame.with_columns(*moved).with_columns(*blank)


def _score(frame: pl.DataFrame, mapping: dict[str, str]) -> float:
    """How many of the mapped cells fit their field, over the rows."""
    fits = [
        pl.col(column).str.contains(_FITS[target]).fill_null(False).cast(pl.Int64).sum()
        - (pl.col(column).is_not_null() & ~pl.col(column).str.contains(_FITS[target]).fill_null(True))
        .cast(pl.Int64)
        .sum()
        for column, target in mapping.items()
        if target in _FITS
    ]
    if not fits:
        return 0.0
    return float(frame.select(pl.sum_horizontal(fits)).item())


def apply_alignment(source: pl.DataFrame, headers: list[str], alignment: Alignment | None) -> pl.DataFrame:
    """The short rows of the chosen length moved so their blank cell sits in the missing column."""
    if alignment is None or alignment.missing is None:
        return source
    position = headers.index(alignment.missing)
    is_short = pl.col(CELLS) == alignment.cells
    columns = [
        pl.when(is_short).then(pl.col(headers[index - 1])).otherwise(pl.col(headers[index])).alias(headers[index])
        if index > position
        else pl.col(headers[index])
        for index in range(len(headers))
    ]
    columns[position] = pl.when(is_short).then(None).otherwise(pl.col(headers[position])).alias(headers[position])
    return source.with_columns(columns)


def length_warnings(source: pl.DataFrame, headers: list[str], alignment: Alignment | None) -> pl.DataFrame:
    """A warning for every row whose cell count differs from the header's, saying how it was read."""
    width = len(headers)
    aligned = f"'{alignment.missing}' left blank" if alignment and alignment.missing else "padded at the end"
    action = (
        pl.when(pl.col(CELLS) > width)
        .then(pl.lit("extra cells ignored"))
        .when(pl.col(CELLS) == (alignment.cells if alignment else -1))
        .then(pl.lit(aligned))
        .otherwise(pl.lit("padded at the end"))
    )
    return source.filter(pl.col(CELLS) != width).select(
        pl.col(LINE).alias("line"),
        pl.lit("").alias("column"),
        pl.lit("").alias("value"),
        pl.format("the row has {} cells but the header has {}", pl.col(CELLS), pl.lit(width)).alias("reason"),
        action.alias("action"),
    )
