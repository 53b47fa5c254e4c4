"""Given names as people go by them: the usual (formal) form of a nickname or short form, Bob -> robert.

The groups come from `data/nicknames.csv`, one group per line with the formal name first; a name listed in
several groups belongs to the first. Blocking and comparisons read them from the temp table dup_nicknames.
"""

from functools import cache
from importlib.resources import files

import duckdb
import polars as pl

from core.db import scratch


@cache
def nickname_table() -> pl.DataFrame:
    """name -> usual: every name of a group mapped to the group's formal name ('kate' -> 'catherine')."""
    text = files("core.duplicates").joinpath("data/nicknames.csv").read_text(encoding="utf-8")
    usual: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            names = [name.strip() for name in line.split(",") if name.strip()]
            for name in names:
                usual.setdefault(name, names[0])
    return pl.DataFrame({"name": list(usual), "usual": list(usual.values())})


def usual_name(name: str) -> str:
    """The usual form of a cleaned first name, or the name itself: 'bob' -> 'robert'."""
    found = nickname_table().filter(pl.col("name") == name)["usual"]
    return found.item() if found.len() else name


def install_nicknames(con: duckdb.DuckDBPyConnection) -> None:
    """Create this connection's temp table dup_nicknames(name, usual)."""
    with scratch(con, nickname_table()) as table:
        con.execute(f"CREATE OR REPLACE TEMP TABLE dup_nicknames AS SELECT name, usual FROM {table}")
