"""The search index: the distinct terms of names, emails and phones, and which contacts hold each (issue 17).

A word is a lower-cased run of letters and digits of a first name, last name, email or additional email; a
phone's term (primary or additional) is its digits, whatever their formatting, and only a query that looks
like a phone reads them. `search_terms` holds each distinct term once (713,000 at 1,000,000 contacts),
`search_postings` (term_id, row_key) the contacts holding it, keyed by the contacts' integer `row_key`
(migration 016). A query without separators ("smith", "gmail", "55501") is inside a value exactly when it
is inside one of the value's terms, so its contacts are read from the terms that contain it: the scan
covers the distinct terms, not the contacts, and the rest grows with the matches. A query with separators
("maria.gar", "john smith") narrows the candidates the same way per word, then checks them exactly. The terms
holding a piece of three letters or more are read through one of its trigrams (`search_grams`, migration 021:
each term under each of its trigrams, with the term itself to test), not by testing every term.

Custom text, number and dropdown values are searched by whole word (core/views/search.py), so their words are
kept apart: `search_custom_words` (term, row_key), migration 040. A custom word is a run of the characters the
whole-word test counts as part of a word (`[[:alnum:]_]`, case-insensitively, by the store's regular expressions),
lower-cased after the split; a query that is one such word (ASCII) is a whole word of a value exactly when it is
one of its terms, any other query narrows its candidates by its words and checks them.

DuckDB has no triggers: every write that changes a contact's names, emails, phones or additional emails and
phones calls `refresh_search_index` for those contacts inside its own transaction, and every write that changes
only custom values (or a field's values: a dropdown option mapped, a field deleted) `refresh_custom_terms`. A
deleted contact's postings and custom words are left behind (its row_key is never reused, so they match no row);
`rebuild_search_index` drops them.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import duckdb

from core.contacts.custom_values import value_column
from core.db import Scratch, rows, scalar, scratch
from core.db.bulk import indexes_built_after, rebuilds_indexes, sorted_distinct
from core.db.dialect import DUCKDB, Dialect, dialect
from core.views.vocabulary import held_words, rebuild_vocabulary, refresh_vocabulary

SEARCHED_FIELDS = frozenset({"first_name", "last_name", "email", "phone"})  # with contact_channels' values
SEARCHED_CUSTOM_TYPES = ("text", "number", "dropdown")  # custom fields searched by whole word
GRAM = 3  # the length of the terms' n-grams (search_grams, migration 021)
# What separates the words of a custom value: the complement of what core.views.search.whole_word_pattern counts as
# part of a word, split with the 'i' flag as that pattern is matched (RE2 then counts 'K', the Kelvin sign, a letter).
CUSTOM_SEPARATORS = "[^[:alnum:]_]+"

Position = Literal["contains", "prefix", "suffix", "equal"]
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")  # core.db.dialect split_words on lower-cased ASCII text
_TERM_TEST: dict[Position, str] = {
    "contains": "contains({term}, $piece_{i})",
    "prefix": "starts_with({term}, $piece_{i})",
    "suffix": "suffix({term}, $piece_{i})",
    "equal": "{term} = $piece_{i}",
}
# A trigram's terms are tested as this expression of two columns: DuckDB evaluates a test of the term column alone
# inside the scan, on every row of the row group the trigram sits in, not on the trigram's rows only (at 1,000,000
# contacts 'gmail''s terms 4.0 -> 1.5 ms CPU).
_GRAM_TERM = "(CASE WHEN phone THEN NULL ELSE term END)"
# The same tests as LIKE patterns (Dialect.terms_by_like): a piece holds letters and digits only, no wildcard.
_TERM_LIKE: dict[Position, str] = {
    "contains": "term LIKE '%' || $piece_{i} || '%'",
    "prefix": "term LIKE $piece_{i} || '%'",
    "suffix": "term LIKE '%' || $piece_{i}",
    "equal": "term = $piece_{i}",
}


def _values_sql(changed: str) -> str:
    """SQL: (row_key, v, phone) for the searchable values of the contacts `changed` selects. A contact's names and
    email are one value, joined by a space: a space separates words and is no letter (nor one ICU's lower-casing
    looks through, for a final sigma), so its words are those of each, and one split per contact instead of three
    (the words of 1,000,000 contacts: 5.3 -> 3.8 s of PostgreSQL's CPU)."""
    return (
        f"SELECT row_key, concat_ws(' ', first_name, last_name, email) AS v, false AS phone FROM ({changed}) named "
        f"UNION ALL SELECT row_key, phone, true FROM ({changed}) phoned WHERE phone IS NOT NULL "
        f"UNION ALL SELECT c.row_key, ch.value, ch.kind = 'phone' FROM ({changed}) c "
        "JOIN contact_channels ch USING (contact_id)"
    )


def terms_sql(changed: str, store: Dialect = DUCKDB) -> str:
    """SQL: the distinct (row_key, term, phone) rows of the contacts `changed` selects (columns of contacts).
    A word is a lower-cased run of letters and digits (core.db.dialect split_words)."""
    digits = "regexp_replace(v, '[^0-9]', '', 'g')"
    split = f"CASE WHEN phone THEN {store.list_of([digits])} ELSE {store.split_words('v')} END"
    return (
        f"SELECT DISTINCT row_key, term, phone FROM (SELECT row_key, phone, unnest({split}) AS term "
        f"FROM ({_values_sql(changed)})) WHERE term <> ''"
    )


def grams_sql(terms: str, store: Dialect = DUCKDB) -> str:
    """SQL: the distinct (gram, phone, term_id, term) rows of the word terms `terms` selects (term_id, term, phone).
    Phones have none: of ten digits, a trigram holds about one phone in a hundred, so it narrows little, and
    at a million unique phones their trigrams doubled an import's cost (9 s and 2 GB more at 1M rows)."""
    return f"SELECT unnest({store.grams('term', GRAM)}) AS gram, phone, term_id, term FROM ({terms}) WHERE NOT phone"


def _add_postings(con: duckdb.DuckDBPyConnection, fresh: Scratch, bulk: bool = False) -> None:
    """Add the terms of `fresh` (row_key, term, phone) not held yet with their trigrams, then its postings (`bulk`:
    with the postings' indexes built after them when the batch is larger than the table, core.db.bulk)."""
    # The stored terms are read once, narrowed to the fresh ones (a join over all 713,000 costs 10-25 ms). New terms
    # are those no stored term equals (an anti-join: EXCEPT hashed all 2,000,000 of a 1,000,000-row import again).
    # DuckDB scans its terms, so they are stored sorted, phones last (a search for words skips their row groups);
    # terms read by LIKE through an index (Dialect.terms_by_like) need no order: on PostgreSQL that sort of
    # 2,000,000 new terms took about 3 s of CPU.
    held = f"SELECT term_id, term, phone FROM search_terms WHERE term IN (SELECT term FROM {fresh})"
    order = "" if dialect(con).terms_by_like else " ORDER BY phone, term"
    new_terms = (
        "SELECT nextval('search_term_seq') AS term_id, term, phone FROM (SELECT term, phone FROM "
        f"(SELECT DISTINCT term, phone FROM {fresh}) fresh_terms WHERE NOT EXISTS "
        f"(SELECT 1 FROM ({held}) h WHERE h.term = fresh_terms.term AND h.phone = fresh_terms.phone){order}) new_terms"
    )
    with scratch(con, new_terms) as new:
        with indexes_built_after(con, "search_terms", bulk and rebuilds_indexes(con, "search_terms", new)):
            con.execute(f"INSERT INTO search_terms SELECT term_id, term, phone FROM {new}")
        if not dialect(con).terms_by_like:  # a trigram index on the terms answers instead (piece_terms_sql)
            grams = grams_sql(f"SELECT * FROM {new}", dialect(con))
            con.execute(f"INSERT INTO search_grams {grams} ORDER BY phone, gram, term_id")
    rebuild = bulk and rebuilds_indexes(con, "search_postings", fresh)
    with indexes_built_after(con, "search_postings", rebuild):
        if rebuild:  # fresh's rows are distinct, each term is stored once, the indexes are built after: a plain join
            con.execute(
                f"INSERT INTO search_postings SELECT t.term_id, f.row_key FROM {fresh} f "
                "JOIN search_terms t USING (term, phone)"
            )
        else:
            con.execute(
                f"INSERT INTO search_postings SELECT DISTINCT t.term_id, f.row_key FROM {fresh} f JOIN ({held}) t "
                f"USING (term, phone){dialect(con).insert_order('t.term_id, f.row_key')}"
            )


def searched_custom_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The custom fields a search reads, by whole word: the text, number and dropdown ones."""
    found = rows(con, "SELECT key FROM custom_fields WHERE type IN ('text', 'number', 'dropdown') ORDER BY position")
    return [key for (key,) in found]


def custom_words_sql(keys: Sequence[str], values: str, store: Dialect = DUCKDB) -> str:
    """SQL: the distinct (term, row_key) words of the custom fields `keys` in the rows `values` selects (rows of
    custom_values); no rows without keys."""
    if not keys:
        return "SELECT CAST(NULL AS VARCHAR) AS term, CAST(NULL AS BIGINT) AS row_key WHERE FALSE"
    held = " UNION ALL ".join(
        f"SELECT row_key, {value_column(key)} AS v FROM ({values}) cv WHERE {value_column(key)} IS NOT NULL"
        for key in keys
    )
    split = f"unnest(regexp_split_to_array(v, '{CUSTOM_SEPARATORS}', 'i'))"
    return (
        f"SELECT DISTINCT {store.lower('w')} AS term, row_key FROM (SELECT row_key, {split} AS w FROM ({held}) held) "
        "words WHERE w <> ''"
    )


def _refresh_custom_words(con: duckdb.DuckDBPyConnection, changed: Scratch) -> None:
    """Replace the custom words of the contacts whose row_keys `changed` holds by those of their stored values."""
    con.execute(f"DELETE FROM search_custom_words WHERE row_key IN (SELECT row_key FROM {changed})")
    store = dialect(con)
    values = f"SELECT * FROM custom_values WHERE row_key IN (SELECT row_key FROM {changed})"
    words = custom_words_sql(searched_custom_keys(con), values, store)
    con.execute(f"INSERT INTO search_custom_words {words}{store.insert_order('term, row_key')}")


def _chosen_sql(contacts: Scratch | Sequence[str], id_column: str) -> tuple[str, dict[str, list[str]]]:
    """SQL selecting the contact IDs of `contacts` (a relation's `id_column`, or a list), with its parameters."""
    if isinstance(contacts, Scratch):
        return f"SELECT {id_column} FROM {contacts}", {}
    return "SELECT unnest($ids)", {"ids": list(contacts)}


def refresh_search_index(
    con: duckdb.DuckDBPyConnection,
    contacts: Scratch | Sequence[str],
    id_column: str = "contact_id",
    custom_values: bool = True,
    bulk: bool = False,
    existing: Scratch | None = None,
) -> None:
    """Bring the postings of these contacts (a relation whose `id_column` holds contact IDs, or a list of IDs) up
    to date with their stored values, their custom words too unless `custom_values` is False (a writer that
    changed none); set-based, inside the caller's transaction. Deleted contacts need no call. `bulk` (an import):
    a batch larger than what a table holds writes it with that table's indexes built after (core.db.bulk; they
    then lock the table until the caller's transaction ends). `existing`: a relation whose `id_column` lists the
    contacts among these that existed before the caller's transaction, when it made the others (an import): only
    theirs may hold postings and words to delete first (1,000,000 contacts imported into 10,000,000 on PostgreSQL:
    the deletes took 20 s to find none). Without it any of them may."""
    chosen, params = _chosen_sql(contacts, id_column)
    searched = "row_key, contact_id, first_name, last_name, email, phone"
    with (
        scratch(con, f"SELECT {searched} FROM contacts WHERE contact_id IN ({chosen})", params) as changed,
        _stale(con, changed, existing, id_column) as stale,
    ):
        if stale is not None:
            con.execute(f"DELETE FROM search_postings WHERE row_key IN (SELECT row_key FROM {stale})")
        # The typo search's words (core/views/vocabulary.py) are computed first: an import's drop of the search tables'
        # indexes locks them until its commit (core.db.bulk), and the lock need not wait for this scratch.
        with held_words(con, changed) as held:
            with sorted_distinct(con, terms_sql(f"SELECT * FROM {changed}", dialect(con))) as fresh:
                _add_postings(con, fresh, bulk)
            refresh_vocabulary(con, held, stale, bulk)
        if custom_values:
            _refresh_custom_words(con, changed)


@contextmanager
def _stale(
    con: duckdb.DuckDBPyConnection, changed: Scratch, existing: Scratch | None, id_column: str
) -> Iterator[Scratch | None]:
    """The contacts of `changed` that may hold postings and words already, as a relation with their row_key: all of
    them, or those `existing` lists (see refresh_search_index); None when none may."""
    if existing is None:
        yield changed
        return
    listed = f"SELECT row_key FROM {changed} WHERE contact_id IN (SELECT {id_column} FROM {existing})"
    with scratch(con, listed) as stale:
        yield stale if scalar(con, f"SELECT EXISTS (SELECT 1 FROM {stale})") else None


def refresh_custom_terms(
    con: duckdb.DuckDBPyConnection, contacts: Scratch | Sequence[str], id_column: str = "contact_id"
) -> None:
    """Bring the custom words of these contacts (as refresh_search_index takes them) up to date with their stored
    custom values, for a write that changed custom values only; inside the caller's transaction."""
    chosen, params = _chosen_sql(contacts, id_column)
    with scratch(con, f"SELECT row_key FROM contacts WHERE contact_id IN ({chosen})", params) as changed:
        _refresh_custom_words(con, changed)


def rebuild_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Build the terms, postings and custom words again from every contact (drops deleted contacts' rows)."""
    con.execute("DELETE FROM search_postings")
    con.execute("DELETE FROM search_terms")
    con.execute("DELETE FROM search_grams")
    con.execute("DELETE FROM search_custom_words")
    store = dialect(con)
    with scratch(con, terms_sql("SELECT * FROM contacts", store)) as fresh:
        _add_postings(con, fresh)
    words = custom_words_sql(searched_custom_keys(con), "SELECT * FROM custom_values", store)
    con.execute(f"INSERT INTO search_custom_words {words} ORDER BY term, row_key")
    rebuild_vocabulary(con)


def query_pieces(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, list[tuple[str, Position]]]:
    """The lower-cased query and its words, each with where it must sit in a stored word: a piece after a
    separator starts a word, one before a separator ends it ("maria.gar": a word ending in 'maria', one
    starting with 'gar'); a query that is one piece may be anywhere inside a word."""
    if text.isascii():  # letters and digits are ASCII ones: the store's split and lower-casing, without a query
        lowered = text.lower()
        parts = _ASCII_SEPARATORS.split(lowered)
    else:
        store = dialect(con)
        lowered, parts = rows(con, f"SELECT {store.lower('$t')}, {store.split_words('$t')}", {"t": text})[0]
    pieces: list[tuple[str, Position]] = []
    for index, piece in enumerate(parts):
        if not piece:
            continue
        after_separator, before_separator = index > 0, index < len(parts) - 1
        position: Position = (
            "equal"
            if after_separator and before_separator
            else "prefix"
            if after_separator
            else "suffix"
            if before_separator
            else "contains"
        )
        pieces.append((piece, position))
    return lowered, pieces


def piece_terms_sql(
    label: str | int, piece: str, position: Position, phone: bool, store: Dialect = DUCKDB
) -> tuple[str, dict[str, str]]:
    """SQL: the term_ids of the words (or phone digits) holding the piece as placed, and its parameters (named after
    `label`). A piece of three letters or more reads the terms of one of its trigrams (search_grams, migration 021),
    a shorter one (or phone digits) tests every term. Where the store has a trigram index on the terms
    (Dialect.terms_by_like: PostgreSQL, migration 035) every piece of three or more is a LIKE it answers, and
    search_grams is not kept (migration 043: its upkeep was the largest part of a 1,000,000-row import there)."""
    kind = f"{'' if phone else 'NOT '}phone"
    test = _TERM_TEST[position].format(i=label, term="term")
    params = {f"piece_{label}": piece}
    if phone or len(piece) < GRAM or store.terms_by_like:
        # The phones are stored last: a search for words skips their row groups. Phones have no trigrams.
        if store.terms_by_like and len(piece) >= GRAM:
            test = _TERM_LIKE[position].format(i=label)
        return f"SELECT term_id FROM search_terms WHERE {kind} AND {test}", params
    # Every term holding the piece holds each of its trigrams: any one will do (a suffix's last, else the first).
    params[f"gram_{label}"] = piece[-GRAM:] if position == "suffix" else piece[:GRAM]
    test = _TERM_TEST[position].format(i=label, term=_GRAM_TERM)
    return f"SELECT term_id FROM search_grams WHERE gram = $gram_{label} AND {kind} AND {test}", params


def holding_sql(
    pieces: list[tuple[str, Position]], phone: bool = False, prefix: str = "", store: Dialect = DUCKDB
) -> tuple[str, dict[str, str]]:
    """SQL: the row_keys of contacts holding a word (or phone digits) for every piece as placed (an intersection);
    its parameters are named with `prefix`, so several can sit in one statement."""
    selects, params = [], {}
    for i, (piece, position) in enumerate(pieces):
        terms, piece_params = piece_terms_sql(f"{prefix}{i}", piece, position, phone, store)
        params.update(piece_params)
        selects.append(f"SELECT row_key FROM search_postings WHERE term_id IN ({terms})")
    return " INTERSECT ".join(selects), params


def keys_holding(
    con: duckdb.DuckDBPyConnection, pieces: list[tuple[str, Position]], limit: int, phone: bool = False
) -> list[int] | None:
    """The row_keys of contacts holding a word (or phone digits) for every piece as placed, distinct and sorted;
    None when more than `limit` postings hold them (the caller scans instead)."""
    sql, params = holding_sql(pieces, phone, store=dialect(con))
    return listed_keys(con, sql, params, limit)


def listed_keys(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], limit: int) -> list[int] | None:
    """The row_keys `sql` selects (its column row_key), distinct and sorted; None when it selects more than `limit`
    rows. Past the limit the list never leaves the database: at 1,000,000 contacts 'gmail' read 50,001 postings into
    Python only to learn that they were too many (12 ms of CPU)."""
    found = rows(
        con,
        f"SELECT CASE WHEN count(*) <= $limit THEN list(row_key) END, count(*) "
        f"FROM (SELECT row_key FROM ({sql}) held LIMIT $limit + 1) few",
        {**params, "limit": limit},
    )
    keys, count = found[0]
    return None if count > limit else sorted(set(keys or []))


def custom_query_words(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The query's words as custom words are split and lower-cased (custom_words_sql), distinct."""
    store = dialect(con)
    split = f"unnest(regexp_split_to_array($t, '{CUSTOM_SEPARATORS}', 'i'))"
    found = rows(con, f"SELECT DISTINCT {store.lower('w')} FROM (SELECT {split} AS w) words WHERE w <> ''", {"t": text})
    return sorted(word for (word,) in found)


def custom_holding_sql(words: Sequence[str], prefix: str = "custom_word") -> tuple[str, dict[str, str]]:
    """SQL: the row_keys of contacts holding every one of these custom words (an intersection), with parameters
    named with `prefix`."""
    params = {f"{prefix}_{i}": word for i, word in enumerate(words)}
    selects = [f"SELECT row_key FROM search_custom_words WHERE term = ${name}" for name in params]
    return " INTERSECT ".join(selects), params
