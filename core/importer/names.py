"""Full names split into first and last name by a parser that knows honorifics and suffixes (nameparser).

The parser runs once per distinct name, not per row. A name equal to the row's company is a company's
row (an exporter writes the organisation as the display name): it fills no person's name.
"""

import re

import polars as pl
from nameparser import HumanName

_NOT_A_NAME = re.compile(r"[=()@+<>\[\]{}|\\/:;\d]")
_LETTER = re.compile(r"[^\W\d_]")
_NAME_SCHEMA = {"full_name": pl.String, "__first": pl.String, "__last": pl.String}


def split_name(name: str) -> tuple[str | None, str | None]:
    """('Dr. Ada King Lovelace PhD') -> ('Ada', 'King Lovelace'): given names first, family name last."""
    if _NOT_A_NAME.search(name) or not _LETTER.search(name):
        return name.strip() or None, None  # '-5' or '=SUM(A1)' is kept as written, not parsed
    parsed = HumanName(name)
    first = " ".join(part for part in (parsed.first, parsed.middle) if part).strip() or None
    last = parsed.last.strip() or None
    if first is None and last is None:
        return name.strip() or None, None
    return first, last


def split_full_names(values: pl.DataFrame) -> pl.DataFrame:
    """The 'full_name' column replaced by first_name and last_name (a company's own name fills neither)."""
    if "full_name" not in values.columns:
        return values
    names = values["full_name"].drop_nulls().unique()
    parsed = [split_name(name) for name in names.to_list()]
    lookup = pl.DataFrame(
        {"full_name": names, "__first": [p[0] for p in parsed], "__last": [p[1] for p in parsed]}, schema=_NAME_SCHEMA
    )
    is_company = (
        pl.col("full_name").str.to_lowercase() == pl.col("company").str.to_lowercase()
        if "company" in values.columns
        else pl.lit(False)
    )
    joined = values.join(lookup, on="full_name", how="left", maintain_order="left")
    person = is_company.fill_null(False).not_()
    return joined.with_columns(
        first_name=pl.when(person).then(pl.col("__first")),
        last_name=pl.when(person).then(pl.col("__last")),
    ).drop("full_name", "__first", "__last")
