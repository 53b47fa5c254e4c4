"""Search that forgives typos: the query's words matched against the vocabulary of names and email local parts.

The vocabulary is every distinct lower-cased first and last name (23,000 at 1,000,000 contacts) and email
local part (primary and additional; 500,000), much smaller than the contacts, so a word is compared with it
in Python (rapidfuzz, optimal string alignment: a wrong, missing, extra or swapped letter each counts one)
and the contacts holding the close words are then found by exact lookup in SQL. The vocabularies are kept in the
database on write and in the process's memory (core/views/vocabulary.py): a search after a write reads the words
that write added, never the contacts.
"""

import os
from collections.abc import Callable
from typing import Any

import duckdb
from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.db import rows
from core.db.dialect import dialect
from core.stamps import contacts_stamp
from core.views.search import escape_re2
from core.views.vocabulary import Vocabulary, Words, generation, grouped, holders_of, live_words, vocabulary

MIN_FUZZY_LENGTH = 4  # shorter words would match half the vocabulary: they stay exact
LONG_WORD_LENGTH = 6  # from this length two typos are forgiven, below it one
MAX_ALTERNATIVES = 25  # close words kept per query word and vocabulary, closest first
MAX_WORDS = 4  # a longer query is not a name: no fuzzy part
_EMAIL_MARKS = set(".-_+0123456789")

# The vocabularies as read from the contacts themselves (load_vocabulary: what the kept ones must equal).
_VOCABULARY_SQL: dict[Vocabulary, str] = {
    "names": "SELECT {first} AS word FROM contacts UNION ALL SELECT {last} FROM contacts",
    "locals": "SELECT {email} AS word FROM contacts UNION ALL SELECT {channel} FROM contact_channels ch "
    "WHERE ch.kind = 'email' AND ch.contact_id IN (SELECT contact_id FROM contacts)",
}


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
    """Read the distinct lower-cased first and last names ("names") or email local parts ("locals") from the contacts
    themselves (a scan: what the kept vocabulary is checked against, and the figure it replaced)."""
    store = dialect(con)
    sql = _VOCABULARY_SQL[kind].format(
        first=store.lower("first_name"),
        last=store.lower("last_name"),
        email=store.lower("split_part(email, '@', 1)"),
        channel=store.lower("split_part(ch.value, '@', 1)"),
    )
    found = rows(con, f"SELECT DISTINCT word FROM ({sql}) w WHERE word IS NOT NULL AND word <> ''")
    return grouped([word for (word,) in found])


def database_stamp(con: duckdb.DuckDBPyConnection) -> tuple[str, tuple[int, int]] | None:
    """The database and its stamp (the contacts write stamp, and a DuckDB file's last change); None for an
    in-memory database (never cached). On PostgreSQL the stamp is the database's own, moved by every app process's
    writes (core/stamps.py), so what is kept on it holds across processes. Cheap: the SQL fingerprint it replaces
    cost 18-60 ms at 1,000,000."""
    store = dialect(con)
    name = rows(con, store.database_identity_sql())[0][0]
    if name is None:
        return None
    changed = 0
    if store.one_writer_process:  # a file: its change time tells a write by another process since
        try:
            changed = os.stat(name).st_mtime_ns
        except OSError:
            pass
    return name, (contacts_stamp(con), changed)


def same_digits(word: str, other: str) -> bool:
    """Whether two words hold the same digits in the same order: digits number people and accounts (person7,
    jo.smith1984), so one digit off is somebody else, never a typo ("person7@" must not find person17)."""
    return [ch for ch in word if ch.isdigit()] == [ch for ch in other if ch.isdigit()]


def close_words(words: Words, word: str, live: Callable[[list[str]], set[str]] | None = None) -> list[str]:
    """The words within the word's allowed typos (the word itself included), closest first (then alphabetical), at
    most MAX_ALTERNATIVES; typos are letters only (see same_digits). When more are close, `live` (which of them a
    contact still holds) keeps words whose holders all went from taking the places of held ones."""
    typos = allowed_typos(word)
    if typos == 0:
        return [word] if word in words.of_length(len(word)) else []
    candidates = words.within_counts(word, typos)
    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=typos, limit=None)
    close = [match for match, _, _ in sorted(found, key=lambda hit: (hit[1], hit[0])) if same_digits(word, match)]
    if len(close) > MAX_ALTERNATIVES and live is not None:
        held = live(close)
        close = [match for match in close if match in held]
    return close[:MAX_ALTERNATIVES]


def _local_pattern(words: list[str]) -> str:
    """An RE2 pattern matching an email whose local part is one of the words (with the 'i' flag)."""
    return "^(" + "|".join(escape_re2(word) for word in words) + ")@"


def _name_clause(
    con: duckdb.DuckDBPyConnection, index: int, names: list[str]
) -> tuple[str, dict[str, Any], list[int] | None]:
    """Contacts whose first or last name is one of the (close) names: the check of the whole name, and the contacts
    the vocabulary lists for them (core.views.vocabulary.holders_of; every contact the check can find is among
    them), so the statement checks those rows only (a statement of its own cost 10-17 ms CPU per word at
    1,000,000); a name with a separator is matched by scanning (no list: None). Was: every contact holding one as a
    word of any value in the search index ('john' and 'smith' in emails too: at 10,000,000 on PostgreSQL each list
    held 100,000 or more, joined to the contacts, 1 s per statement)."""
    store = dialect(con)
    params: dict[str, Any] = {f"fuzzy_names_{index}": names}
    whole = " OR ".join(
        store.list_contains(f"$fuzzy_names_{index}", f"lower(c.{column})") for column in ("first_name", "last_name")
    )
    if not all(name.isalnum() for name in names):
        return f"({whole})", params, None
    return f"({whole})", params, holders_of(con, "names", names)  # a first or last name equal to one


def _local_clause(
    con: duckdb.DuckDBPyConnection, index: int, locals_: list[str]
) -> tuple[str, dict[str, Any], list[int]]:
    """Contacts with an email (primary or additional) whose local part is one of the words: the check with the
    anchored pattern, and the contacts the vocabulary lists for them (core.views.vocabulary.holders_of), the only
    rows the statement checks. Was: every contact holding the word's first run as a term, 6,858 for 'maria.gar'
    at 1,000,000 (the check read their emails: 34 -> 11 ms CPU for the statement)."""
    params: dict[str, Any] = {f"fuzzy_email_{index}": _local_pattern(locals_)}
    # The local part is matched by an anchored pattern: cutting it out of a million emails costs twice as much.
    check = (
        f"regexp_matches(c.email, $fuzzy_email_{index}, 'i') OR c.contact_id IN (SELECT ch.contact_id "
        f"FROM contact_channels ch WHERE ch.kind = 'email' AND regexp_matches(ch.value, $fuzzy_email_{index}, 'i'))"
    )
    return f"({check})", params, holders_of(con, "locals", locals_)


def _word_clause(
    con: duckdb.DuckDBPyConnection, index: int, names: list[str], locals_: list[str]
) -> tuple[str, dict[str, Any], set[int] | None]:
    """Contacts holding one of the close names as first or last name, or a close local part in an email: the check,
    and the contacts that can hold one (None when a name is matched by scanning: then the check is narrowed to the
    listed contacts of its email part itself)."""
    parts = ([_name_clause(con, index, names)] if names else []) + (
        [_local_clause(con, index, locals_)] if locals_ else []
    )
    params = {k: v for _, p, _ in parts for k, v in p.items()}
    if all(keys is not None for _, _, keys in parts):
        return (
            "(" + " OR ".join(clause for clause, _, _ in parts) + ")",
            params,
            {k for *_, ks in parts for k in ks or []},
        )
    clauses = []
    for clause, _, keys in parts:
        if keys is None:
            clauses.append(clause)
        else:
            params[f"fuzzy_local_keys_{index}"] = keys
            clauses.append(f"(c.row_key IN (SELECT unnest($fuzzy_local_keys_{index})) AND {clause})")
    return "(" + " OR ".join(clauses) + ")", params, None


def words_to_match(words: list[tuple[str, bool]]) -> bool:
    """Whether the query's words are matched one by one: two to four words (any order), or one with typos."""
    return 0 < len(words) <= MAX_WORDS and (len(words) > 1 or allowed_typos(words[0][0]) > 0)


def fuzzy_condition(con: duckdb.DuckDBPyConnection, query: str) -> tuple[str, dict[str, Any]] | None:
    """The WHERE fragment (on contacts `c`) finding contacts that hold a word close to every query word, in
    any order ("Smith John", "Li Wei"); None for one word too short to forgive typos (the search stays exact)."""
    words = query_words(query)
    if not words_to_match(words):
        return None
    key = generation(con)
    held_names = vocabulary(con, "names", key)
    held_locals = vocabulary(con, "locals", key) if any(maybe_email for _, maybe_email in words) else Words({})
    clauses, params, keys = [], dict[str, Any](), None
    for index, (word, maybe_email) in enumerate(words):
        names = close_words(held_names, word, lambda close: live_words(con, "names", close))
        local_words = (
            close_words(held_locals, word, lambda close: live_words(con, "locals", close)) if maybe_email else []
        )
        if not names and not local_words:
            return None  # a word close to nothing: no contact can hold them all
        clause, clause_params, held = _word_clause(con, index, names, local_words)
        clauses.append(clause)
        params.update(clause_params)
        if held is not None:
            keys = held if keys is None else keys & held
    if keys is not None:
        # The contacts that can hold every word listed once (intersected here): each word's list joined to the
        # contacts apart cost 1.1-1.7 s per statement for 'Jonh Smith' at 10,000,000 on PostgreSQL (50,000
        # holders of a name close to 'jonh', 88,000 close to 'smith'; 464 hold both).
        if not keys:
            return "FALSE", {}
        params["fuzzy_keys"] = sorted(keys)
        clauses.insert(0, "c.row_key IN (SELECT unnest($fuzzy_keys))")
    return "(" + " AND ".join(clauses) + ")", params
