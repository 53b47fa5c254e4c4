"""The typo search's vocabularies, kept in the database on write and in each process's memory (migration 041).

Two vocabularies: 'names' (every lower-cased first and last name) and 'locals' (every lower-cased email local part,
primary and additional). Writers keep two tables inside their own transaction, from `refresh_search_index`
(core/views/search_index.py), which every write that changes a contact's names or emails calls:

- `vocabulary_holders` (kind, word, row_key): the words each contact holds. A close local part's contacts are read
  from it, and a word is checked there for a live holder. A deleted contact's rows stay (its row_key is never
  reused, like its search postings) until `rebuild_vocabulary`.
- `vocabulary_words` (kind, word, batch): each word once, with the batch of the write that first held it
  (a `vocabulary_batch` value taken only by a write that adds a word). Rows are only ever added: writers never
  update a row another writer may hold, so no two writes conflict over a common word.

A process keeps each vocabulary as `Words` (words by length, with their letter counts) and on each typo search reads
only the words of batches it has not seen: a search after a write reads that write's new words (none for most
edits), not the contacts; the same on PostgreSQL, where several processes write. So the kept vocabulary holds
every word a live contact holds, and perhaps words whose holders have all gone: `live_words` tells those apart
where it matters (core.views.fuzzy.close_words keeps the closest MAX_ALTERNATIVES live words).

Batches commit out of order (two writers take 7 and 8; 8 commits first): a reader that has seen 8 but not 7 keeps 7
as a gap and reads it again on later searches, for GAP_SECONDS or until it holds words, within GAP_WINDOW batches
of the newest it has seen.
"""

import threading
import time
import uuid
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np

from core.db import Scratch, constants, rows, scalar, scratch
from core.db.bulk import indexes_built_after, rebuilds_indexes, sorted_distinct
from core.db.dialect import Dialect, dialect

Vocabulary = Literal["names", "locals"]

GAP_SECONDS = 3600.0  # a batch not seen this long after a later one is taken for rolled back
GAP_WINDOW = 1000  # nor one this many batches older than the newest seen
FEW_WORDS = 20  # a write adding at most this many (kind, word) looks them up as constants (_add_few_words)
FEW_SAMPLE = 1000  # rows first read to tell whether a write's words are few
KEPT_DATABASES = 8  # (generation, vocabulary) pairs kept per process: a test run opens many databases

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
    """A vocabulary: its words grouped by length, with each group's letter counts (made when first compared).
    Never changed once shared: `with_added` makes a new one."""

    def __init__(self, by_length: dict[int, list[str]], counts: dict[int, np.ndarray] | None = None) -> None:
        self.by_length = by_length
        self._counts: dict[int, np.ndarray] = counts if counts is not None else {}

    def of_length(self, length: int) -> list[str]:
        """The words of this length."""
        return self.by_length.get(length, [])

    def __len__(self) -> int:
        return sum(len(group) for group in self.by_length.values())

    def with_added(self, words: list[str]) -> "Words":
        """This vocabulary with the words it does not hold yet (itself when it holds them all); only the groups of
        the new words' lengths are copied, their letter counts extended."""
        fresh: dict[int, list[str]] = {}
        for word in words:
            fresh.setdefault(len(word), []).append(word)
        by_length, counts = dict(self.by_length), dict(self._counts)
        added = False
        for length, group in fresh.items():
            held = set(self.of_length(length))
            new = [word for word in dict.fromkeys(group) if word not in held]
            if not new:
                continue
            added = True
            by_length[length] = [*self.of_length(length), *new]
            if length in counts:
                counts[length] = np.vstack([counts[length], letter_counts(new, length)])
        return Words(by_length, counts) if added else self

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


def grouped(words: list[str]) -> Words:
    """Words from a list (duplicates dropped), grouped by length."""
    return Words({}).with_added(words)


# --- writing: inside the writer's transaction -------------------------------------------------------------------


def held_sql(changed: str, store: Dialect) -> str:
    """SQL: the distinct (row_key, kind, word) the contacts `changed` selects hold (columns of contacts)."""

    def local(column: str) -> str:
        return store.lower(f"split_part({column}, '@', 1)")

    parts = [
        f"SELECT 'names' AS kind, {store.lower('first_name')} AS word, row_key FROM ({changed}) n",
        f"SELECT 'names', {store.lower('last_name')}, row_key FROM ({changed}) n",
        f"SELECT 'locals', {local('email')}, row_key FROM ({changed}) n",
        f"SELECT 'locals', {local('ch.value')}, c.row_key FROM ({changed}) c "
        "JOIN contact_channels ch ON ch.contact_id = c.contact_id WHERE ch.kind = 'email'",
    ]
    return (
        f"SELECT DISTINCT row_key, kind, word FROM ({' UNION ALL '.join(parts)}) held "
        "WHERE word IS NOT NULL AND word <> ''"
    )


def _add_few_words(con: duckdb.DuckDBPyConnection, fresh: list[tuple[str, str]]) -> None:
    """Add these (kind, word) not held yet under one new batch: the few words of an edit, looked up as constants (the
    words are stored sorted by kind and word, so DuckDB reads the row groups that may hold them: at 1,000,000
    contacts 1.4 ms CPU, against 4.3 for a join with the fresh words and 5 more for a scratch table of the new)."""
    params = {f"kind_{i}": kind for i, (kind, _) in enumerate(fresh)} | {
        f"word_{i}": word for i, (_, word) in enumerate(fresh)
    }
    tests = " OR ".join(f"(kind = $kind_{i} AND word = $word_{i})" for i in range(len(fresh)))
    held = set(rows(con, f"SELECT kind, word FROM vocabulary_words WHERE {tests}", params))
    new = [pair for pair in fresh if pair not in held]
    if not new:
        return  # most edits: no batch taken, so readers see no gap
    batch = scalar(con, "SELECT nextval('vocabulary_batch')")
    con.executemany("INSERT INTO vocabulary_words VALUES (?, ?, ?)", [[kind, word, batch] for kind, word in new])


def _add_words(con: duckdb.DuckDBPyConnection, fresh: Scratch, bulk: bool = False) -> None:
    """Add the words of `fresh` (row_key, kind, word) not held yet, under one new batch (`bulk`: as
    refresh_vocabulary)."""
    # Whether the words are few, told first from the first rows: a large batch's many words are seen there, without
    # making all of them distinct (3,000,000 rows of a 1,000,000-row import: 0.6 s of PostgreSQL's CPU).
    few = rows(con, f"SELECT DISTINCT kind, word FROM (SELECT * FROM {fresh} LIMIT {FEW_SAMPLE}) first")
    if len(few) <= FEW_WORDS:
        few = rows(con, f"SELECT DISTINCT kind, word FROM {fresh} LIMIT {FEW_WORDS + 1}")
    if len(few) <= FEW_WORDS:
        if few:
            _add_few_words(con, few)
        return
    stored = f"SELECT kind, word FROM vocabulary_words WHERE word IN (SELECT word FROM {fresh})"
    new_words = (  # an anti-join: EXCEPT hashed every fresh word a second time
        f"SELECT kind, word FROM (SELECT DISTINCT kind, word FROM {fresh}) fresh_words WHERE NOT EXISTS "
        f"(SELECT 1 FROM ({stored}) s WHERE s.kind = fresh_words.kind AND s.word = fresh_words.word)"
    )
    with scratch(con, new_words) as new:
        if not scalar(con, f"SELECT count(*) FROM {new}"):
            return  # most edits: no batch taken, so readers see no gap
        batch = scalar(con, "SELECT nextval('vocabulary_batch')")
        with indexes_built_after(con, "vocabulary_words", bulk and rebuilds_indexes(con, "vocabulary_words", new)):
            con.execute(f"INSERT INTO vocabulary_words SELECT kind, word, $batch FROM {new}", {"batch": batch})


def held_words(con: duckdb.DuckDBPyConnection, changed: Scratch) -> AbstractContextManager[Scratch]:
    """The (row_key, kind, word) the contacts `changed` (their rows of contacts) hold, as a scratch relation for
    refresh_vocabulary: made apart so that an import computes it before the search tables' indexes are dropped
    (core.db.bulk), not while they are locked; made distinct by sorting (1,000,000 contacts' 3,000,000 rows)."""
    return sorted_distinct(con, held_sql(f"SELECT * FROM {changed}", dialect(con)))


def refresh_vocabulary(
    con: duckdb.DuckDBPyConnection, held: Scratch, stale: Scratch | None, bulk: bool = False
) -> None:
    """Bring the words of some contacts up to date with their stored values; set-based, inside the caller's
    transaction (refresh_search_index). `held`: their words, made by held_words; `stale`: a relation whose row_key
    lists those of them that may hold words already, deleted first (None: none may, all were created in this
    transaction). `bulk`: an import, whose holders go in with their indexes built after when they outnumber the
    table's (core.db.bulk)."""
    if stale is not None:
        con.execute(f"DELETE FROM vocabulary_holders WHERE row_key IN (SELECT row_key FROM {stale})")
    rebuild = bulk and rebuilds_indexes(con, "vocabulary_holders", held)
    order = "" if rebuild else dialect(con).insert_order("word, kind, row_key")  # a rebuilt index sorts anyway
    with indexes_built_after(con, "vocabulary_holders", rebuild):
        con.execute(f"INSERT INTO vocabulary_holders SELECT kind, word, row_key FROM {held}{order}")
    _add_words(con, held, bulk)


def rebuild_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """Build both tables again from every contact (drops the words of deleted contacts); readers read them afresh."""
    con.execute("DELETE FROM vocabulary_holders")
    con.execute("DELETE FROM vocabulary_words")
    every = held_sql("SELECT * FROM contacts", dialect(con))
    con.execute(
        f"INSERT INTO vocabulary_holders SELECT kind, word, row_key FROM ({every}) every ORDER BY kind, word, row_key"
    )
    batch = scalar(con, "SELECT nextval('vocabulary_batch')")
    con.execute(
        "INSERT INTO vocabulary_words SELECT kind, word, $batch FROM "
        "(SELECT DISTINCT kind, word FROM vocabulary_holders) w ORDER BY kind, word",
        {"batch": batch},
    )
    con.execute(
        "UPDATE settings SET value = $generation WHERE key = 'vocabulary_generation'", {"generation": uuid.uuid4().hex}
    )


# --- reading: each process keeps the words and reads the batches it has not seen --------------------------------


@dataclass
class _Kept:
    words: Words
    seen: int  # the newest batch read
    gaps: dict[int, float] = field(default_factory=dict)  # batches under `seen` not read yet -> when first missed


_kept: OrderedDict[tuple[str, Vocabulary], _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def generation(con: duckdb.DuckDBPyConnection) -> str:
    """Which vocabulary tables these are: the database (its file, its name: a copy of a database, as a DuckDB file
    copied or a PostgreSQL database made from a template, holds the same generation) and their generation, which
    changes when they are rebuilt. One small query."""
    found = rows(
        con,
        f"SELECT ({dialect(con).database_file_sql()}), current_database(), value FROM settings "
        "WHERE key = 'vocabulary_generation'",
    )
    return "|".join(str(part) for part in found[0])


def _read(con: duckdb.DuckDBPyConnection, kind: Vocabulary, seen: int, gaps: list[int]) -> list[tuple[str, int]]:
    """The (word, batch) rows of this vocabulary from batches after `seen` or among `gaps`."""
    params: dict[str, object] = {"kind": kind, "seen": seen}
    params.update({f"gap_{i}": gap for i, gap in enumerate(gaps)})
    listed = f" OR batch IN ({', '.join(f'$gap_{i}' for i in range(len(gaps)))})" if gaps else ""
    return rows(con, f"SELECT word, batch FROM vocabulary_words WHERE kind = $kind AND (batch > $seen{listed})", params)


def _gaps_after(kept_gaps: dict[int, float], before: int, batches: set[int], newest: int) -> dict[int, float]:
    """The batches still unseen: the old gaps not read now, and the numbers between `before` and `newest` not read,
    dropping those too old (GAP_SECONDS, GAP_WINDOW)."""
    now = time.monotonic()
    gaps = {batch: since for batch, since in kept_gaps.items() if batch not in batches}
    for batch in range(max(before + 1, newest - GAP_WINDOW), newest):
        if batch not in batches:
            gaps.setdefault(batch, now)
    return {batch: since for batch, since in gaps.items() if now - since < GAP_SECONDS and batch > newest - GAP_WINDOW}


def vocabulary(con: duckdb.DuckDBPyConnection, kind: Vocabulary, key: str | None = None) -> Words:
    """A vocabulary, kept per database (its generation: give `key` from `generation` to read it once for both):
    the first call reads every word of vocabulary_words, later ones the batches they have not seen."""
    key = key or generation(con)
    with _kept_lock:
        kept = _kept.get((key, kind))
        if kept is not None:
            _kept.move_to_end((key, kind))
    before, old_gaps = (kept.seen, kept.gaps) if kept is not None else (-1, {})
    found = _read(con, kind, before, sorted(old_gaps))
    if kept is not None and not found and not old_gaps:
        return kept.words  # nothing written since
    batches = {batch for _, batch in found}
    newest = max([before, *batches])
    words = (kept.words if kept is not None else Words({})).with_added([word for word, _ in found])
    fresh = _Kept(words, newest, _gaps_after(old_gaps, before, batches, newest))
    with _kept_lock:
        current = _kept.get((key, kind))
        if current is None or current.seen <= fresh.seen:  # another thread may have read further meanwhile
            _kept[(key, kind)] = fresh
        while len(_kept) > KEPT_DATABASES:
            _kept.popitem(last=False)
    return words


def forget_vocabularies() -> None:
    """Drop the vocabularies this process keeps (a benchmark timing the first read)."""
    with _kept_lock:
        _kept.clear()


def holders_of(con: duckdb.DuckDBPyConnection, kind: Vocabulary, words: list[str]) -> list[int]:
    """The row_keys of the contacts holding one of these words (deleted contacts' among them), sorted."""
    if not words:
        return []
    listed, params = constants("word", words)
    found = rows(
        con,
        f"SELECT list(DISTINCT row_key) FROM vocabulary_holders WHERE kind = $kind AND word IN ({listed})",
        {"kind": kind, **params},
    )
    return sorted(found[0][0] or [])


def live_words(con: duckdb.DuckDBPyConnection, kind: Vocabulary, words: list[str]) -> set[str]:
    """Which of these words a contact still holds (the kept vocabulary may hold words whose holders all went)."""
    if not words:
        return set()
    listed, params = constants("word", words)
    found = rows(
        con,
        "SELECT DISTINCT h.word FROM vocabulary_holders h JOIN contacts c ON c.row_key = h.row_key "
        f"WHERE h.kind = $kind AND h.word IN ({listed})",
        {"kind": kind, **params},
    )
    return {word for (word,) in found}
