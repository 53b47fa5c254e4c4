"""Search that forgives typos: the query's words matched against the vocabulary of names and email local parts.

The vocabulary is every distinct lower-cased first and last name (23,000 at 1,000,000 contacts) and email
local part (primary and additional; 500,000), much smaller than the contacts, so a word is compared with it
in Python (rapidfuzz, optimal string alignment: a wrong, missing, extra or swapped letter each counts one)
and the contacts holding the close words are then found by exact lookup in SQL. The vocabulary is cached in
the process per database file and rebuilt after a write (the contacts stamp of core/stamps.py, which every writer
of core moves) or when the file changed under another process (its modification time: a process that wrote it
checkpointed it on closing).
"""

import os
import threading
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.db import frame, rows
from core.db.dialect import dialect
from core.stamps import contacts_stamp
from core.views.search import escape_re2
from core.views.search_index import keys_of_terms

MIN_FUZZY_LENGTH = 4  # shorter words would match half the vocabulary: they stay exact
LONG_WORD_LENGTH = 6  # from this length two typos are forgiven, below it one
MAX_ALTERNATIVES = 25  # close words kept per query word and vocabulary, closest first
MAX_WORDS = 4  # a longer query is not a name: no fuzzy part
_EMAIL_MARKS = set(".-_+0123456789")

_LOCAL_PART = "lower(split_part({column}, '@', 1))"

Vocabulary = Literal["names", "locals"]

# A word's letters counted in a few buckets (a-z one each, digits one, '.' one, '_-+' one, others three): two words
# whose counts differ by more than k in either direction are more than k typos apart (each wrong, missing or extra
# letter moves a count by one, a swap none; merged buckets only make the difference smaller), so close_words runs
# the exact comparison on the few words left (at 1,000,000 contacts 'maria.garcai' 70 -> 7 ms).
_BUCKETS = 32
_BUCKET_OF = np.full(131, 29, dtype=np.uint8)  # ASCII codes, then three buckets for the rest of Unicode
_BUCKET_OF[ord("a") : ord("z") + 1] = np.arange(26)
_BUCKET_OF[ord("0") : ord("9") + 1] = 26
_BUCKET_OF[ord(".")] = 27
_BUCKET_OF[[ord("_"), ord("-"), ord("+")]] = 28
_BUCKET_OF[128:] = [29, 30, 31]


def letter_counts(words: list[str], length: int) -> np.ndarray:
    """Each word's (all `length` long) letter counts per bucket, a row per word (uint8)."""
    codes = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).reshape(
        len(words), length
    )
    buckets = _BUCKET_OF[np.where(codes < 128, codes, 128 + codes % 3)]
    counts = np.zeros((len(words), _BUCKETS), dtype=np.uint8)
    every = np.arange(len(words))
    for column in range(length):  # a letter per word and column: no word counted twice in one step
        counts[every, buckets[:, column]] += 1
    return counts


class Words:
    """A vocabulary: its words grouped by length, with each group's letter counts (made when first compared), and
    for email local parts the row_keys of the contacts holding each (`holders`: word, keys)."""

    def __init__(self, by_length: dict[int, list[str]], holders: pl.DataFrame | None = None) -> None:
        self.by_length = by_length
        self.holders = holders
        self._counts: dict[int, np.ndarray] = {}

    def keys_of(self, words: list[str]) -> list[int]:
        """The row_keys of the contacts holding one of these words (from `holders`), sorted."""
        if self.holders is None or not words:
            return []
        # A scan of the distinct local parts (3 ms at 1,000,000 contacts): sorting them or a dict of them cost
        # 150-600 ms more on every reload of the vocabulary.
        held = self.holders.filter(pl.col("word").is_in(words))["keys"].explode().drop_nulls().unique().sort()
        return held.to_list()

    def of_length(self, length: int) -> list[str]:
        """The words of this length."""
        return self.by_length.get(length, [])

    def within_counts(self, word: str, typos: int) -> list[str]:
        """The words whose letter counts allow them to be within `typos` of the word (a superset of the close ones),
        in the order close_words compares them (by length, then as read)."""
        wanted = letter_counts([word], len(word))[0]
        found: list[str] = []
        for length in range(len(word) - typos, len(word) + typos + 1):
            group = self.of_length(length)
            if not group:
                continue
            counts = self._counts.get(length)
            if counts is None:  # made once per vocabulary (a race makes it twice: the same)
                counts = self._counts[length] = letter_counts(group, length)
            extra = np.maximum(counts, wanted)
            extra -= wanted
            more = extra.sum(axis=1, dtype=np.int16)  # letters the stored word has beyond the query's
            fewer = more - (length - len(word))  # and the query's beyond the stored word's
            found += [group[i] for i in np.flatnonzero(np.maximum(more, fewer) <= typos)]
        return found


_VOCABULARY_SQL: dict[Vocabulary, str] = {
    "names": "SELECT lower(first_name) AS word FROM contacts UNION ALL SELECT lower(last_name) FROM contacts",
    # Each local part with the contact holding it: a close local part's contacts are then listed without a scan.
    "locals": f"SELECT {_LOCAL_PART.format(column='email')} AS word, row_key FROM contacts "
    f"UNION ALL SELECT {_LOCAL_PART.format(column='ch.value')}, c.row_key FROM contact_channels ch "
    "JOIN contacts c ON c.contact_id = ch.contact_id WHERE ch.kind = 'email'",
}

# (database file, vocabulary) -> (stamp, words). Names take 20 ms to read at 1,000,000 contacts, local
# parts with their contacts' row_keys 400-500 ms CPU on a loaded machine (380 without the row_keys, same hour; about
# 15 MB more held): each is read when first needed after a change.
_cache: dict[tuple[str, Vocabulary], tuple[tuple[int, int], Words]] = {}
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


def load_vocabulary(con: duckdb.DuckDBPyConnection, kind: Vocabulary) -> Words:
    """Read the distinct lower-cased first and last names ("names") or email local parts ("locals", with the
    row_keys of the contacts holding each) (no cache)."""
    grouped: dict[int, list[str]] = {}
    if kind == "locals":
        holders = frame(
            con,
            f"SELECT word, list(row_key) AS keys FROM ({_VOCABULARY_SQL[kind]}) WHERE word IS NOT NULL AND word <> '' "
            "GROUP BY word",
        )
        for word in holders["word"].to_list():
            grouped.setdefault(len(word), []).append(word)
        return Words(grouped, holders)
    for (word,) in rows(
        con, f"SELECT DISTINCT word FROM ({_VOCABULARY_SQL[kind]}) WHERE word IS NOT NULL AND word <> ''"
    ):
        grouped.setdefault(len(word), []).append(word)
    return Words(grouped)


def database_stamp(con: duckdb.DuckDBPyConnection) -> tuple[str, tuple[int, int]] | None:
    """The database file and its stamp (this process's writes, the file's last change); None for an in-memory
    database (never cached). Cheap: the SQL fingerprint it replaces cost 18-60 ms at 1,000,000."""
    path = rows(con, dialect(con).database_file_sql())[0][0]
    if path is None:
        return None
    try:
        changed = os.stat(path).st_mtime_ns
    except OSError:
        changed = 0
    return path, (contacts_stamp(con), changed)


def vocabulary(
    con: duckdb.DuckDBPyConnection, kind: Vocabulary, key: tuple[str, tuple[int, int]] | None = None
) -> Words:
    """A vocabulary, cached per database file until the stamp changes (give `key` from database_stamp to check
    the stamp once for several)."""
    key = key or database_stamp(con)
    if key is None:
        return load_vocabulary(con, kind)
    path, stamp = key
    with _cache_lock:
        cached = _cache.get((path, kind))
        if cached is not None and cached[0] == stamp:
            return cached[1]
    loaded = load_vocabulary(con, kind)
    with _cache_lock:
        _cache[(path, kind)] = (stamp, loaded)
    return loaded


def same_digits(word: str, other: str) -> bool:
    """Whether two words hold the same digits in the same order: digits number people and accounts (person7,
    jo.smith1984), so one digit off is somebody else, never a typo ("person7@" must not find person17)."""
    return [ch for ch in word if ch.isdigit()] == [ch for ch in other if ch.isdigit()]


def close_words(words: Words, word: str) -> list[str]:
    """The words within the word's allowed typos (the word itself included), closest first; typos are letters
    only (see same_digits)."""
    typos = allowed_typos(word)
    if typos == 0:
        return [word] if word in words.of_length(len(word)) else []
    candidates = words.within_counts(word, typos)
    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=typos, limit=MAX_ALTERNATIVES)
    return [match for match, _, _ in sorted(found, key=lambda hit: (hit[1], hit[0])) if same_digits(word, match)]


def _local_pattern(words: list[str]) -> str:
    """An RE2 pattern matching an email whose local part is one of the words (with the 'i' flag)."""
    return "^(" + "|".join(escape_re2(word) for word in words) + ")@"


def _name_clause(con: duckdb.DuckDBPyConnection, index: int, names: list[str]) -> tuple[str, dict[str, Any]]:
    """Contacts whose first or last name is one of the (close) names: the contacts holding one as a word in the
    search index (core/views/search_index.py), checked for the whole name by the statement itself on those rows
    only (a statement of its own cost 10-17 ms CPU per word at 1,000,000); a name with a separator is matched by
    scanning."""
    store = dialect(con)
    params: dict[str, Any] = {f"fuzzy_names_{index}": names}
    whole = " OR ".join(
        store.list_contains(f"$fuzzy_names_{index}", f"lower(c.{column})") for column in ("first_name", "last_name")
    )
    if not all(name.isalnum() for name in names):
        return f"({whole})", params
    held = keys_of_terms(con, names)
    if not held:
        return "FALSE", {}
    params[f"fuzzy_name_keys_{index}"] = held
    return f"(c.row_key IN (SELECT unnest($fuzzy_name_keys_{index})) AND ({whole}))", params


def _local_clause(index: int, locals_: list[str], held: Words) -> tuple[str, dict[str, Any]]:
    """Contacts with an email (primary or additional) whose local part is one of the words: the contacts the
    vocabulary lists for them (Words.keys_of), checked with the anchored pattern by the statement on those rows (the
    vocabulary may be a write behind). Was: every contact holding the word's first run as a term, 6,858 for
    'maria.gar' at 1,000,000 (the check read their emails: 34 -> 11 ms CPU for the statement)."""
    params: dict[str, Any] = {f"fuzzy_email_{index}": _local_pattern(locals_)}
    # The local part is matched by an anchored pattern: cutting it out of a million emails costs twice as much.
    check = (
        f"regexp_matches(c.email, $fuzzy_email_{index}, 'i') OR c.contact_id IN (SELECT ch.contact_id "
        f"FROM contact_channels ch WHERE ch.kind = 'email' AND regexp_matches(ch.value, $fuzzy_email_{index}, 'i'))"
    )
    keys = held.keys_of(locals_)
    if not keys:
        return "FALSE", {}
    params[f"fuzzy_local_keys_{index}"] = keys
    return f"(c.row_key IN (SELECT unnest($fuzzy_local_keys_{index})) AND ({check}))", params


def _word_clause(
    con: duckdb.DuckDBPyConnection, index: int, names: list[str], locals_: list[str], held_locals: Words
) -> tuple[str, dict[str, Any]]:
    """Contacts holding one of the close names as first or last name, or a close local part in an email."""
    parts = ([_name_clause(con, index, names)] if names else []) + (
        [_local_clause(index, locals_, held_locals)] if locals_ else []
    )
    return "(" + " OR ".join(clause for clause, _ in parts) + ")", {k: v for _, p in parts for k, v in p.items()}


def words_to_match(words: list[tuple[str, bool]]) -> bool:
    """Whether the query's words are matched one by one: two to four words (any order), or one with typos."""
    return 0 < len(words) <= MAX_WORDS and (len(words) > 1 or allowed_typos(words[0][0]) > 0)


def fuzzy_condition(con: duckdb.DuckDBPyConnection, query: str) -> tuple[str, dict[str, Any]] | None:
    """The WHERE fragment (on contacts `c`) finding contacts that hold a word close to every query word, in
    any order ("Smith John", "Li Wei"); None for one word too short to forgive typos (the search stays exact)."""
    words = query_words(query)
    if not words_to_match(words):
        return None
    key = database_stamp(con)
    held_names = vocabulary(con, "names", key)
    held_locals = vocabulary(con, "locals", key) if any(maybe_email for _, maybe_email in words) else Words({})
    clauses, params = [], dict[str, Any]()
    for index, (word, maybe_email) in enumerate(words):
        names = close_words(held_names, word)
        local_words = close_words(held_locals, word) if maybe_email else []
        if not names and not local_words:
            return None  # a word close to nothing: no contact can hold them all
        clause, clause_params = _word_clause(con, index, names, local_words, held_locals)
        clauses.append(clause)
        params.update(clause_params)
    return "(" + " AND ".join(clauses) + ")", params
