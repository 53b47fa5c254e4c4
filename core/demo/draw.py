"""Vectorised drawing helpers: whole columns from numpy draws, shaped with Polars, no Python per row."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then

HEX = "0123456789abcdef"
MICROS_PER_DAY = 86_400_000_000


def lit(values: np.ndarray) -> pl.Expr:
    """A numpy column as a Polars expression."""
    return pl.lit(pl.Series(values))


def choose(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    """Indexes into `weights`, drawn in proportion to them."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def pick(values: Sequence[Any], index: np.ndarray) -> pl.Series:
    """values[index] as a text Series, gathered natively."""
    return pl.Series(list(values), dtype=pl.String).gather(index)


def sample(rng: np.random.Generator, options: Mapping[Any, float], size: int) -> pl.Series:
    """`size` keys of `options`, drawn in proportion to their weights."""
    return pick(list(options), choose(rng, list(options.values()), size))


def random_text(rng: np.random.Generator, size: int, length: int, alphabet: str = HEX) -> pl.Series:
    """Random strings over an alphabet, built as one byte matrix."""
    codes = rng.integers(0, len(alphabet), (size, length), dtype=np.uint8)
    table = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    packed = np.ascontiguousarray(table[codes]).view(f"S{length}").ravel()
    return pl.Series(packed, dtype=pl.Binary).cast(pl.String)


def digits(numbers: np.ndarray, width: int) -> pl.Series:
    """Non-negative integers as zero-padded text."""
    return pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def keep(values: pl.Series, mask: np.ndarray) -> pl.Series:
    """The values where mask holds, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series().alias(values.name)


def timestamps(values: np.ndarray) -> pl.Series:
    """Microseconds since the epoch as a TIMESTAMP column."""
    return pl.Series(values, dtype=pl.Int64).cast(pl.Datetime("us"))


def micros(column: pl.Series) -> np.ndarray:
    """A TIMESTAMP column as microseconds since the epoch."""
    return column.cast(pl.Int64).to_numpy()


def between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray, skew: float = 1.0) -> np.ndarray:
    """A moment between start and end; skew > 1 leans towards the start."""
    return start + ((end - start) * rng.random(len(start)) ** skew).astype(np.int64)


def fill_template(text: str, parts: Mapping[str, pl.Expr]) -> pl.Expr:
    """Fill '{name}' placeholders of a template with expressions."""
    pieces = [
        parts[chunk[1:-1]] if chunk.startswith("{") else pl.lit(chunk)
        for chunk in re.split(r"(\{\w+\})", text)
        if chunk
    ]
    return pl.concat_str(pieces)


def numbered(texts: pl.Series, numbers: pl.Series) -> pl.Series:
    """Each text with its '{n}' replaced by the number beside it."""
    frame = pl.DataFrame({"t": texts, "n": numbers})
    return frame.select(pl.col("t").str.replace("{n}", pl.col("n"), literal=True)).to_series()


def format_digits(national: pl.Expr, layout: str) -> pl.Expr:
    """Lay a phone number's digits into a layout where each '#' takes the next digit; the last run takes the rest."""
    runs = re.findall(r"([^#]*)(#*)", layout)
    pieces, position = [], 0
    for number, (literal, hashes) in enumerate(runs):
        if literal:
            pieces.append(pl.lit(literal))
        if hashes:
            last = not any(h for _, h in runs[number + 1 :])
            pieces.append(national.str.slice(position, None if last else len(hashes)))
            position += len(hashes)
    return pl.concat_str(pieces)


def one_of(selector: pl.Expr, choices: Sequence[pl.Expr]) -> pl.Expr:
    """choices[selector], row by row."""
    chained: Then | ChainedThen = pl.when(selector == 0).then(choices[0])
    for number, choice in enumerate(choices[1:], start=1):
        chained = chained.when(selector == number).then(choice)
    return chained
