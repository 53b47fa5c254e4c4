"""Dates as people write them: each date column's format found from all its values, then rewritten as ISO.

Forms read: ISO (padded or not, a time after it ignored), 20080901, day or month first with '/', '-' or '.'
(a dot means day first), '01-Sep-08', 'Jan 20, 1991', '20 January 1991' and Excel date serials. Whether
'01/02/1991' is day or month first is settled by the column: a first number above 12 means day first, a
second one above 12 month first; a column with neither is ambiguous and takes the user's choice, else the
workspace's default. Two-digit years are this century up to this year, the last century after it.
"""

from datetime import date

import polars as pl

DateOrder = str  # "day first" or "month first"
DAY_FIRST, MONTH_FIRST = "day first", "month first"
_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$"
_BASIC = r"^(\d{4})(\d{2})(\d{2})$"
_NUMERIC = r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{4}|\d{2})(?:[T ].*)?$"
_DAY_NAME = r"^(\d{1,2})[ \-.]+([A-Za-z]{3,})\.?[ \-.,]+(\d{4}|\d{2})$"
_NAME_DAY = r"^([A-Za-z]{3,})\.?[ \-]+(\d{1,2})(?:st|nd|rd|th)?,?[ \-]+(\d{4}|\d{2})$"
_SERIAL = r"^\d{5}(?:\.0+)?$"
MONTH_FIRST_COUNTRIES = ("US", "PH", "FM", "MH", "PW", "BZ")


def default_order(country: str) -> DateOrder:
    """The order a workspace's country writes dates in."""
    return MONTH_FIRST if country.upper() in MONTH_FIRST_COUNTRIES else DAY_FIRST


def column_order(cells: pl.Series) -> DateOrder | None:
    """Day or month first as the column's own values say, or None when none of them settles it."""
    parts = cells.str.strip_chars().str.extract_groups(_NUMERIC)
    first, mark, second = (parts.struct.field(name) for name in ("1", "2", "3"))
    first, second = first.cast(pl.Int32, strict=False), second.cast(pl.Int32, strict=False)
    if ((first > 12) | (mark == ".")).any():
        return DAY_FIRST
    if (second > 12).any():
        return MONTH_FIRST
    # A month written as a word shows how the column's author orders dates: '01-Sep-08' is day first.
    text = cells.str.strip_chars()
    if text.str.contains(_DAY_NAME).any():
        return DAY_FIRST
    if text.str.contains(_NAME_DAY).any():
        return MONTH_FIRST
    return None


_FORMS = (
    (_ISO, "year first (1991-01-20)"),
    (_BASIC, "year first without separators (19910120)"),
    (_NUMERIC, "day and month in numbers"),
    (_DAY_NAME, "day, month name, year (20 Jan 1991)"),
    (_NAME_DAY, "month name, day, year (Jan 20, 1991)"),
    (_SERIAL, "Excel date serials"),
)


def date_column_reading(cells: pl.Series, fallback: DateOrder) -> tuple[str, DateOrder | None, bool]:
    """How a date column will be read: (its forms in words, the day/month order used or None when no value has
    day and month in numbers, whether that order is the workspace's default because no value settles it)."""
    text = cells.drop_nulls().str.strip_chars()
    forms = [name for pattern, name in _FORMS if text.str.contains(pattern).any()]
    if not text.str.contains(_NUMERIC).any():
        return ", ".join(forms) or "no dates", None, False
    settled = column_order(text)
    order = settled or fallback
    forms = [f"{name}, {order}" if name.startswith("day and month") else name for name in forms]
    return ", ".join(forms), order, settled is None


def _year(text: pl.Expr) -> pl.Expr:
    year = text.cast(pl.Int32, strict=False)
    short = date.today().year % 100
    century = pl.when(year <= short).then(2000).otherwise(1900)
    return pl.when(text.str.len_chars() == 2).then(century + year).otherwise(year)


def _iso(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        year.cast(pl.String).str.zfill(4),
        pl.lit("-"),
        month.cast(pl.String).str.zfill(2),
        pl.lit("-"),
        day.cast(pl.String).str.zfill(2),
    )


def _month(name: pl.Expr) -> pl.Expr:
    return name.str.to_lowercase().str.slice(0, 3).replace_strict(_MONTHS, default=None, return_dtype=pl.Int32)


_CLOCK = r"^\S+[T ](\d{2}:\d{2}(?::\d{2})?)$"
_ISO_MOMENT = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


def to_iso_moment(cell: pl.Expr, order: DateOrder) -> pl.Expr:
    """A date and time cell: an ISO one as written (its zone kept), another form's date as ISO with its clock
    time ('01/09/2008 14:30' -> '2008-09-01 14:30'), a date alone as ISO."""
    text = cell.str.strip_chars()
    clock = text.str.extract(_CLOCK, 1)
    date_part = to_iso(cell, order)
    with_clock = pl.when(clock.is_not_null()).then(date_part + " " + clock).otherwise(date_part)
    return pl.when(text.str.contains(_ISO_MOMENT)).then(text).otherwise(with_clock)


def to_iso(cell: pl.Expr, order: DateOrder) -> pl.Expr:
    """A date cell in any known form as 'YYYY-MM-DD' (impossible dates stay so the rule refuses them); else as is."""
    text = cell.str.strip_chars()
    iso = text.str.extract_groups(_ISO).struct
    basic = text.str.extract_groups(_BASIC).struct
    numeric = text.str.extract_groups(_NUMERIC).struct
    day_name = text.str.extract_groups(_DAY_NAME).struct
    name_day = text.str.extract_groups(_NAME_DAY).struct
    a, b = numeric.field("1"), numeric.field("3")
    day_first = (numeric.field("2") == ".") | pl.lit(order == DAY_FIRST)
    serial = text.str.contains(_SERIAL)
    return (
        pl.when(text.str.contains(_ISO))
        .then(_iso(iso.field("1"), iso.field("2"), iso.field("3")))
        .when(text.str.contains(_BASIC))
        .then(_iso(basic.field("1"), basic.field("2"), basic.field("3")))
        .when(text.str.contains(_NUMERIC))
        .then(
            pl.when(day_first)
            .then(_iso(_year(numeric.field("4")), b, a))
            .otherwise(_iso(_year(numeric.field("4")), a, b))
        )
        .when(text.str.contains(_DAY_NAME) & _month(day_name.field("2")).is_not_null())
        .then(_iso(_year(day_name.field("3")), _month(day_name.field("2")), day_name.field("1")))
        .when(text.str.contains(_NAME_DAY) & _month(name_day.field("1")).is_not_null())
        .then(_iso(_year(name_day.field("3")), _month(name_day.field("1")), name_day.field("2")))
        .when(serial)
        .then(
            (
                pl.lit(date(1899, 12, 30)) + pl.duration(days=text.cast(pl.Float64, strict=False).cast(pl.Int64))
            ).dt.to_string("%Y-%m-%d")
        )
        .otherwise(text)
    )


def normalise_dates(
    values: pl.DataFrame,
    columns: list[str],
    chosen: dict[str, DateOrder],
    fallback: DateOrder,
    timed: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, dict[str, DateOrder]]:
    """The date columns rewritten as ISO (those in `timed` keep their clock time), and the order used for each
    ambiguous or settled day/month column."""
    orders: dict[str, DateOrder] = {}
    for column in columns:
        cells = values[column].drop_nulls()
        if not cells.str.contains(_NUMERIC).any():
            continue
        orders[column] = chosen.get(column) or column_order(cells) or fallback
    if not columns:
        return values, orders
    return values.with_columns(
        (to_iso_moment if c in timed else to_iso)(pl.col(c), orders.get(c, fallback)).alias(c) for c in columns
    ), orders
