"""Search that forgives typos: the query's words matched against the vocabulary of names and email local parts.

The vocabulary is every distinct lower-cased first and last name (23,000 at 1,000,000 contacts) and email
local part (primary and additional; 500,000), much smaller than the contacts, so a word is compared with it
in Python (rapidfuzz, optimal string alignment: a wrong, missing, extra or swapped letter each counts one)
and the contacts holding the close words are then found by exact lookup in SQL. The vocabulary is cached in
the process per database file and rebuilt when the data stamp (core.dashboard) changes.
"""

import threading
from dataclasses import dataclass
from typing import Any

import duckdb
from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.db import rows
from core.views.search import escape_re2

MIN_FUZZY_LENGTH = 4  # shorter words would match half the vocabulary: they stay exact
LONG_WORD_LENGTH = 6  # from this length two typos are forgiven, below it one
MAX_ALTERNATIVES = 25  # close words kept per query word and vocabulary, closest first
MAX_WORDS = 4  # a longer query is not a name: no fuzzy part
_EMAIL_MARKS = set(".-_+0123456789")

_LOCAL_PART = "lower(split_part({column}, '@', 1))"

Words = dict[int, list[str]]


@dataclass(frozen=True)
class Vocabulary:
    """The distinct lower-cased names (first and last) and email local parts, each grouped by length."""

    names: Words
    locals: Words


_cache: dict[str, tuple[tuple, Vocabulary]] = {}
_cache_lock = threading.Lock()


def _wordlike(word: str) -> bool:
    """Letters, digits and what names and local parts hold; a word with other signs ("^ada") is meant as typed."""
    return all(ch.isalnum() or ch in _EMAIL_MARKS or ch == "'" for ch in word)


def allowed_typos(word: str) -> int:
    """How many letters of a query word may be wrong, missing, extra or swapped."""
    if len(word) < MIN_FUZZY_LENGTH or not any(ch.isalpha() for ch in word) or not _wordlike(word):
        return 0
    return 1 if len(word) < LONG_WORD_LENGTH else 2


def query_words(query: str) -> list[tuple[str, bool]]:
    """The query's words as the vocabulary holds them (lower-cased, an email cut to its local part), each
    with whether it may be an email local part: it holds '@', a dot, a dash, an underscore, a plus or a digit.

    A plain word is matched against names only: half a million local parts cost ten times the names' time.
    """
    words = []
    for raw in query.lower().split():
        word = raw.split("@", 1)[0].strip(",;")
        if word:
            words.append((word, "@" in raw or any(ch in _EMAIL_MARKS for ch in word)))
    return words


def _by_length(words: list[tuple[str]]) -> Words:
    grouped: Words = {}
    for (word,) in words:
        grouped.setdefault(len(word), []).append(word)
    return grouped


def load_vocabulary(con: duckdb.DuckDBPyConnection) -> Vocabulary:
    """Read the vocabulary from the database (no cache)."""
    names = rows(
        con,
        "SELECT DISTINCT word FROM (SELECT lower(first_name) AS word FROM contacts "
        "UNION ALL SELECT lower(last_name) FROM contacts) WHERE word IS NOT NULL AND word <> ''",
    )
    locals_ = rows(
        con,
        f"""
        SELECT DISTINCT word FROM (
            SELECT {_LOCAL_PART.format(column="email")} AS word FROM contacts
            UNION ALL SELECT {_LOCAL_PART.format(column="value")} FROM contact_channels WHERE kind = 'email'
        ) WHERE word IS NOT NULL AND word <> ''
        """,
    )
    return Vocabulary(_by_length(names), _by_length(locals_))


def _database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    return rows(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0]


def vocabulary(con: duckdb.DuckDBPyConnection) -> Vocabulary:
    """The vocabulary, cached per database file until the data stamp changes (in-memory ones are not cached)."""
    from core.dashboard.figures import data_stamp  # late: core.dashboard imports core.views

    path = _database_path(con)
    if path is None:
        return load_vocabulary(con)
    stamp = data_stamp(con)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    loaded = load_vocabulary(con)
    with _cache_lock:
        _cache[path] = (stamp, loaded)
    return loaded


def close_words(words: Words, word: str) -> list[str]:
    """The words within the word's allowed typos (the word itself included), closest first."""
    typos = allowed_typos(word)
    if typos == 0:
        return [word] if word in words.get(len(word), ()) else []
    candidates: list[str] = []
    for length in range(len(word) - typos, len(word) + typos + 1):
        candidates += words.get(length, [])
    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=typos, limit=MAX_ALTERNATIVES)
    return [match for match, _, _ in sorted(found, key=lambda hit: (hit[1], hit[0]))]


def _local_pattern(words: list[str]) -> str:
    """An RE2 pattern matching an email whose local part is one of the words (with the 'i' flag)."""
    return "^(" + "|".join(escape_re2(word) for word in words) + ")@"


def _word_clause(index: int, names: list[str], locals_: list[str]) -> tuple[str, dict[str, Any]]:
    """Contacts holding one of the close names as first or last name, or a close local part in an email."""
    clauses, params = [], dict[str, Any]()
    if names:
        params[f"fuzzy_names_{index}"] = names
        held = f"(SELECT unnest($fuzzy_names_{index}))"
        clauses += [f"lower(c.first_name) IN {held}", f"lower(c.last_name) IN {held}"]
    if locals_:
        # The local part is matched by an anchored pattern: cutting it out of a million emails costs twice as much.
        params[f"fuzzy_email_{index}"] = _local_pattern(locals_)
        clauses.append(f"regexp_matches(c.email, $fuzzy_email_{index}, 'i')")
        clauses.append(
            "c.contact_id IN (SELECT ch.contact_id FROM contact_channels ch WHERE ch.kind = 'email' "
            f"AND regexp_matches(ch.value, $fuzzy_email_{index}, 'i'))"
        )
    return "(" + " OR ".join(clauses) + ")", params


def fuzzy_condition(con: duckdb.DuckDBPyConnection, query: str) -> tuple[str, dict[str, Any]] | None:
    """The WHERE fragment (on contacts `c`) finding contacts that hold a word close to every query word, in
    any order; None when no word of the query is long enough to forgive typos (the search stays exact)."""
    words = query_words(query)
    if not words or len(words) > MAX_WORDS or not any(allowed_typos(word) for word, _ in words):
        return None
    held = vocabulary(con)
    clauses, params = [], dict[str, Any]()
    for index, (word, maybe_email) in enumerate(words):
        names = close_words(held.names, word)
        local_words = close_words(held.locals, word) if maybe_email else []
        if not names and not local_words:
            return None  # a word close to nothing: no contact can hold them all
        clause, clause_params = _word_clause(index, names, local_words)
        clauses.append(clause)
        params.update(clause_params)
    return "(" + " AND ".join(clauses) + ")", params
