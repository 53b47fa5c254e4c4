"""Names as people write them: a sound key that forgives spelling, and the usual form of a nickname.

The sound key is a small metaphone: rewrite rules applied in order to a cleaned name (lower-case letters),
kept as one table so the SQL macro that keys a million names and the Python function a test calls agree.
Nicknames (Bob, Kate) come from `data/nicknames.csv`, one group per line with the formal name first.
"""

import re
from functools import cache
from importlib.resources import files

import duckdb
import polars as pl

# (pattern, replacement), in order. RE2 (DuckDB) and Python's re read these the same way.
SOUND_RULES: tuple[tuple[str, str], ...] = (
    ("^(k|g|p)n", "n"),
    ("^wr", "r"),
    ("^wh", "w"),
    ("^x", "s"),
    ("mb$", "m"),
    ("ph", "f"),
    ("gh", ""),
    ("sch", "sk"),
    ("x", "ks"),
    ("(sh|ch)", "x"),
    ("c([iey])", "s\\1"),
    ("(ck|c|q)", "k"),
    ("dg([eiy])", "j\\1"),
    ("g([eiy])", "j\\1"),
    ("th", "0"),
    ("d", "t"),
    ("v", "f"),
    ("z", "s"),
    ("w([^aeiouy]|$)", "\\1"),
    ("(.)h", "\\1"),
    ("^[aeiouy]", "a"),
)


def _collapse_sql(text: str) -> str:
    """Doubled letters once: 'hannah' -> 'hanah' (RE2 has no back-references)."""
    return (
        f"array_to_string(list_filter(string_split({text}, ''),"
        f" lambda c, i: i = 1 OR c <> string_split({text}, '')[i - 1]), '')"
    )


def _sound_rules_sql(text: str) -> str:
    for pattern, replacement in SOUND_RULES:
        text = f"regexp_replace({text}, '{pattern}', '{replacement}', 'g')"
    return text


# Vowels after the first letter carry little of how a name sounds: they go.
MACROS = f"""
CREATE OR REPLACE TEMP MACRO dup_collapse(x) AS {_collapse_sql("x")};
CREATE OR REPLACE TEMP MACRO dup_sound_rules(x) AS {_sound_rules_sql("dup_collapse(x)")};
CREATE OR REPLACE TEMP MACRO dup_sound_tail(x) AS left(x, 1) || regexp_replace(x[2:], '[aeiouy]', '', 'g');
CREATE OR REPLACE TEMP MACRO dup_sound(x) AS nullif(dup_collapse(dup_sound_tail(dup_sound_rules(x))), '');
"""


def _collapse(text: str) -> str:
    return "".join(c for i, c in enumerate(text) if i == 0 or c != text[i - 1])


def sound_key(name: str) -> str | None:
    """The sound key of a cleaned name (lower-case letters): 'stephen' and 'steven' -> 'stfn'."""
    text = _collapse(name)
    for pattern, replacement in SOUND_RULES:
        text = re.sub(pattern, replacement, text)
    text = text[:1] + re.sub("[aeiouy]", "", text[1:])
    return _collapse(text) or None


@cache
def nickname_table() -> pl.DataFrame:
    """name -> usual (formal) form, from data/nicknames.csv: 'bob' -> 'robert'; the first group listing a name wins."""
    text = files("core.duplicates").joinpath("data/nicknames.csv").read_text(encoding="utf-8")
    usual: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = [name.strip() for name in line.split(",") if name.strip()]
        for name in names:
            usual.setdefault(name, names[0])
    return pl.DataFrame({"name": list(usual), "usual": list(usual.values())})


def usual_name(name: str) -> str:
    """The formal form of a cleaned first name, or the name itself: 'kate' -> 'catherine'."""
    found = nickname_table().filter(pl.col("name") == name)["usual"]
    return found.item() if found.len() else name


def install_name_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define dup_sound(name) and the temp table dup_nicknames(name, usual) for this connection."""
    con.execute(MACROS)
    con.register("dup_nicknames_source", nickname_table())
    con.execute("CREATE OR REPLACE TEMP TABLE dup_nicknames AS SELECT * FROM dup_nicknames_source")
    con.unregister("dup_nicknames_source")
