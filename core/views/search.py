"""Quick search as the admin guide defines it, compiled to a parameterised SQL condition.

Fuzzy (case-insensitive, partial) on first name, last name, email and phone (additional ones
included), the phone matching whatever its formatting; case-insensitive whole word on custom fields except
checkbox and date & time. Close spellings (typos) of names and email local parts: core/views/fuzzy.py.
"""

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import duckdb
import polars as pl

from core.contacts.custom_values import value_column
from core.contacts.normalize import normalize_phones, phone_digits
from core.db import rows
from core.db.dialect import dialect
from core.views.search_index import (
    GRAM,
    Position,
    custom_holding_sql,
    custom_query_words,
    holding_sql,
    keys_holding,
    listed_keys,
    piece_terms_sql,
    query_pieces,
)

_RE2_SPECIAL = set("\\.+*?()|[]{}^$-")
MIN_PHONE_DIGITS = 3
# Candidates of a query with separators are checked one by one; above this many the query scans instead.
VERIFY_LIMIT = 20_000
# Up to this many candidates are fetched through the index on row_key (DuckDB's index_scan_max_count, 2048).
INDEX_FETCH_LIMIT = 2_000
# A query held by more contacts than this (gmail, com) scans instead: the scan costs the same for any query.
MAX_MATCHES = 50_000
# A custom word held by more contacts than this (a dropdown's 'Pro') is read inside the statement, not listed.
CUSTOM_KEYS_LIMIT = 5_000
# From this many matches a page may be read along the index on its sort column, testing one contact at a time
# (Search.walk): at 10,000,000 contacts on PostgreSQL 'gmail''s 2,500,000 matches were joined and sorted (59-79 s).
MANY_MATCHES = 5_000
NUMBER_CHARACTERS = frozenset("0123456789.-+e")  # a number's canonical text, lower-cased (core/contacts/rules.py)


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so the text matches literally (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def escape_re2(text: str) -> str:
    """The text as an RE2 pattern matching it literally."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def whole_word_pattern(text: str) -> str:
    """An RE2 pattern matching the text as a whole word (or words)."""
    return rf"(^|[^[:alnum:]_])({escape_re2(text)})([^[:alnum:]_]|$)"


def _looks_like_phone(text: str) -> bool:
    digits = phone_digits(text)
    return len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(text.replace(" ", "")) * 0.6


def search_condition(
    query: str, default_country: str = "US", custom_keys: Sequence[str] = ()
) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and parameters for a quick search, scanning every contact (the
    search index's reference, and its fallback); `custom_keys` are the custom fields searched by whole word
    (searched_custom_keys)."""
    text = " ".join(query.split())
    if not text:
        return "TRUE", {}
    params: dict[str, Any] = {"search_like": f"%{escape_like(text)}%"}
    # ILIKE without ESCAPE runs as a fast case-insensitive substring scan; a query holding a
    # wildcard character needs ESCAPE, which is slow, so it goes through literal contains() instead.
    literal = not any(ch in text for ch in "%_\\")
    escape = "" if literal else " ESCAPE '\\'"
    columns = ["c.first_name", "c.last_name", "c.email"]
    phone_like = _looks_like_phone(text)
    # Only a query with a space can span first and last name, and joining the two names of every contact is
    # the costliest clause of a search.
    if " " in text:
        columns.append("concat_ws(' ', c.first_name, c.last_name)")
    if literal:
        clauses = [f"{column} ILIKE $search_like" for column in columns]
    else:
        params["search_text"] = text.lower()
        clauses = [f"contains(lower({column}), $search_text)" for column in columns]
    if custom_keys:
        params["search_word"] = whole_word_pattern(text)
        clauses.append(_custom_clause(escape, custom_keys))
    # Additional emails and phones (contact_channels) are searched like the primary ones: a phone by its digits,
    # when the query looks like a phone.
    channel_match = f"(ch.kind = 'email' AND ch.value ILIKE $search_like{escape})"
    if phone_like:
        params["search_digits"] = phone_digits(text)
        clauses.append("contains(c.phone, $search_digits)")
        channel_match += " OR (ch.kind = 'phone' AND contains(ch.value, $search_digits))"
        e164 = normalize_phones_single(text, default_country)
        if e164:
            params["search_e164"] = e164
            clauses.append("c.phone = $search_e164")
            channel_match += " OR (ch.kind = 'phone' AND ch.value = $search_e164)"
    clauses.append(f"c.contact_id IN (SELECT ch.contact_id FROM contact_channels ch WHERE {channel_match})")
    return "(" + " OR ".join(clauses) + ")", params


def normalize_phones_single(text: str, default_country: str) -> str | None:
    """The E.164 form of a phone-looking query, or None."""
    return normalize_phones(pl.Series([text]), default_country)["phone"][0]


def fields_that_may_hold(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The searched custom fields whose values may hold the query as a whole word: every text field, the number
    fields when the query is written only with what a number's canonical text holds, the dropdowns with an option
    holding it (a dropdown's values are its options: the rules refuse others, removing an option maps its values).
    Reading only those columns saves two thirds of the custom values' scan at 1,000,000 contacts."""
    number_like = set(text.lower()) <= NUMBER_CHARACTERS
    params = {"search_like": f"%{escape_like(text)}%", "search_word": whole_word_pattern(text)}
    option_holds = f"o ILIKE $search_like{_escape(text)} AND regexp_matches(o, $search_word, 'i')"
    found = rows(
        con,
        "SELECT key FROM custom_fields f WHERE type = 'text' OR (type = 'number' AND $number_like) "
        "OR (type = 'dropdown' AND key IN (SELECT key FROM (SELECT key, unnest(options) AS o FROM custom_fields "
        f"WHERE type = 'dropdown') WHERE {option_holds})) ORDER BY position",
        {**params, "number_like": number_like},
    )
    return [key for (key,) in found]


def _custom_values_sql(escape: str, keys: Sequence[str], values: str = "custom_values") -> str:
    """SQL: the row_keys of contacts holding the query as a whole word in a value of the custom fields `keys`
    (one pass over custom_values, or the relation `values` names: a column per field, core.contacts.custom_values)."""
    held = [value_column(key, "v") for key in keys]
    words = [f"({v} ILIKE $search_like{escape} AND regexp_matches({v}, $search_word, 'i'))" for v in held]
    return f"SELECT v.row_key FROM {values} v WHERE {' OR '.join(words) or 'FALSE'}"


def _custom_clause(escape: str, keys: Sequence[str]) -> str:
    """Custom text, number and dropdown values holding the query as a whole word."""
    return f"c.row_key IN ({_custom_values_sql(escape, keys)})"


def _words_sql(text: str) -> str:
    """SQL: whether contact `c` holds the query (search_like) in a name, the full name (for a query with a space),
    an email or an additional email; checks the candidates the search index gives a query with separators."""
    like = "ILIKE $search_like ESCAPE '\\'"
    clauses = [f"{column} {like}" for column in ("c.first_name", "c.last_name", "c.email")]
    if " " in text:
        clauses.append(f"concat_ws(' ', c.first_name, c.last_name) {like}")
    clauses.append(f"c.contact_id IN (SELECT contact_id FROM contact_channels WHERE kind = 'email' AND value {like})")
    return "(" + " OR ".join(clauses) + ")"


def _verified(con: duckdb.DuckDBPyConnection, candidates: set[int], text: str) -> set[int]:
    """The candidates (row_keys) that really hold the query, checked on their own rows only."""
    if not candidates:
        return set()
    params: dict[str, Any] = {"search_like": f"%{escape_like(text)}%"}
    if len(candidates) <= INDEX_FETCH_LIMIT:
        # Each key a parameter of an IN list: DuckDB fetches the rows through the index on row_key (migration 039)
        # instead of decompressing a vector of every column read around each candidate, spread over the table
        # (at 1,000,000 contacts 'maria.gar''s 69 candidates 19 -> 4 ms CPU).
        listed = {f"key_{i}": key for i, key in enumerate(sorted(candidates))}
        params.update(listed)
        chosen = ", ".join(f"${name}" for name in listed)
    else:
        params["keys"] = sorted(candidates)
        chosen = "SELECT unnest($keys)"
    # MATERIALIZED: the check runs on the candidates, not pushed down into a scan of every contact.
    sql = (
        f"WITH c AS MATERIALIZED (SELECT * FROM contacts WHERE row_key IN ({chosen})) "
        f"SELECT list(c.row_key) FROM c WHERE {_words_sql(text)}"
    )
    found = rows(con, sql, params)
    return set(found[0][0] or [])


def _phone_pieces(text: str, default_country: str) -> list[tuple[str, Position]]:
    """A phone-looking query's pieces among the phones' terms: its digits anywhere, and its E.164 form's whole."""
    if not _looks_like_phone(text):
        return []
    pieces: list[tuple[str, Position]] = [(phone_digits(text), "contains")]
    e164 = normalize_phones_single(text, default_country)
    if e164:
        pieces.append((phone_digits(e164), "equal"))
    return pieces


def indexed_matches(con: duckdb.DuckDBPyConnection, query: str, default_country: str = "US") -> list[int] | None:
    """The row_keys of contacts holding the query in a name, email or phone (additional ones included), read
    from the search index (core/views/search_index.py), sorted; None when the index cannot list them (a query of
    separators only, or one held by too many contacts: see held_condition)."""
    text = " ".join(query.split())
    lowered, pieces = query_pieces(con, text)
    if not pieces:
        return None
    # One piece and nothing else is inside a value exactly when inside one of its words: no check needed.
    whole = len(pieces) == 1 and pieces[0][0] == lowered
    # Where a page of many matches is read along the sort index (Dialect.pages_by_index), listing them gains nothing
    # past MANY_MATCHES: the statement reads the postings itself (at 10,000,000 on PostgreSQL listing 'smith''s
    # 50,001 cost 100-160 ms).
    most = min(MAX_MATCHES, MANY_MATCHES) if dialect(con).pages_by_index else MAX_MATCHES
    words = keys_holding(con, pieces, most if whole else VERIFY_LIMIT)
    if words is None:
        return None
    exact, candidates = (set(words), set()) if whole else (set(), set(words))
    for piece in _phone_pieces(text, default_country):
        phones = keys_holding(con, [piece], most, phone=True)
        if phones is None:
            return None
        exact.update(phones)
    return sorted(exact | _verified(con, candidates - exact, text))


class IndexSQL(NamedTuple):
    """A search's names, emails and phones read from the search index inside the statement: selects of row_keys
    (a contact is found when one holds its row_key), with parameters."""

    sources: list[str]
    params: dict[str, Any]


def held_by_index(con: duckdb.DuckDBPyConnection, query: str, default_country: str = "US") -> IndexSQL | None:
    """The search index read inside the statement for a query of one word held by too many contacts to list
    ('gmail': 259,000 at 1,000,000), the same contacts as indexed_matches: the postings of its terms. None for a
    word shorter than a trigram (its terms are each tested and its postings are most of the table) and for a query
    with separators: checked inside the statement, its candidates' test ran on every contact (at 1,000,000
    'maria.gar' past VERIFY_LIMIT 250 ms CPU against 149 for the scan), so both scan."""
    text = " ".join(query.split())
    lowered, pieces = query_pieces(con, text)
    if len(pieces) != 1 or pieces[0][0] != lowered or len(lowered) < GRAM:
        return None
    sources, params = holding_sql(pieces, prefix="w", store=dialect(con))
    found = IndexSQL([sources], params)
    for j, piece in enumerate(_phone_pieces(text, default_country)):
        phone_sql, phone_params = holding_sql([piece], phone=True, prefix=f"p{j}_", store=dialect(con))
        found.sources.append(phone_sql)
        found.params.update(phone_params)
    return found


class CustomMatches(NamedTuple):
    """The contacts holding a query as a whole word of a custom value: listed (`keys`, row_keys), or read inside
    the statement (`source`, a select of row_keys, with its parameters) when there are too many to list."""

    keys: list[int] | None
    source: str = ""
    params: dict[str, Any] = {}


# A query that is one custom word by itself, in any store's regular expressions (see custom_matches).
_ONE_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")


def _custom_scan(text: str, keys: Sequence[str], values: str = "custom_values") -> tuple[str, dict[str, Any]]:
    """SQL: the row_keys of contacts holding the query as a whole word in the custom fields `keys`, by a scan of
    custom_values (or of the relation `values` names), with its parameters."""
    params = {"search_like": f"%{escape_like(text)}%", "search_word": whole_word_pattern(text)}
    return _custom_values_sql(_escape(text), keys, values), params


def custom_matches(con: duckdb.DuckDBPyConnection, text: str) -> CustomMatches:
    """The contacts holding the query as a whole word in a custom text, number or dropdown value, from the custom
    words of the search index (search_custom_words, migration 040). A query that is one ASCII word is a whole word
    of a value exactly when it is one of the value's words: their postings answer. Any other query (several words,
    or letters a store's case-folding may read differently) narrows its candidates by its words and checks them;
    a query without a word (or with too many candidates) scans the values as before."""
    if _ONE_ASCII_WORD.fullmatch(text):
        sql, params = custom_holding_sql([text.lower()])
        held = listed_keys(con, sql, params, CUSTOM_KEYS_LIMIT)
        return CustomMatches(held) if held is not None else CustomMatches(None, sql, params)
    fields = fields_that_may_hold(con, text)
    if not fields:
        return CustomMatches([])
    candidates: set[int] | None = None
    # Each word's holders listed on their own, the common ones (past VERIFY_LIMIT: 'cus' of every customer number)
    # left out: the candidates only need to hold the others (at 10,000,000 on PostgreSQL 'CUS-16147954' intersected
    # 1,800,000 postings of 'cus' with ten: 1.6-1.9 s).
    for word in custom_query_words(con, text):
        sql, params = custom_holding_sql([word])
        held = listed_keys(con, sql, params, VERIFY_LIMIT)
        if held is not None:
            candidates = set(held) if candidates is None else candidates & set(held)
    if candidates is not None:
        return CustomMatches(_verified_custom(con, sorted(candidates), text, fields))
    return CustomMatches(None, *_custom_scan(text, fields))


def _verified_custom(
    con: duckdb.DuckDBPyConnection, candidates: list[int], text: str, fields: Sequence[str]
) -> list[int]:
    """The candidates (row_keys) whose values of the custom fields `fields` really hold the query as a whole word."""
    if not candidates:
        return []
    scan, params = _custom_scan(text, fields, "candidates")
    if len(candidates) <= INDEX_FETCH_LIMIT:
        # Each key a parameter of an IN list: custom_values is stored by row_key, so DuckDB reads only the row groups
        # that may hold them; MATERIALIZED, so that the test runs on the candidates' rows, not on those row groups.
        listed: dict[str, Any] = {f"custom_key_{i}": key for i, key in enumerate(candidates)}
        chosen = ", ".join(f"${name}" for name in listed)
    else:
        listed, chosen = {"custom_candidates": candidates}, "SELECT unnest($custom_candidates)"
    found = rows(
        con,
        f"WITH candidates AS MATERIALIZED (SELECT * FROM custom_values WHERE row_key IN ({chosen})) "
        f"SELECT list(row_key) FROM ({scan}) held",
        params | listed,
    )
    return sorted(set(found[0][0] or []))


def _escape(text: str) -> str:
    """The ESCAPE clause an ILIKE needs for this query: none without a wildcard character (a faster scan)."""
    return "" if not any(ch in text for ch in "%_\\") else " ESCAPE '\\'"


class Search(NamedTuple):
    """A quick search's condition on contacts `c` (`sql`, with `params`), and `walk`: the same contacts spelled as a
    test of one contact at a time (a correlated EXISTS over the search index), for a page read along an index on its
    sort column, stopping at the page (core.views.queries, Dialect.pages_by_index), when the matches are many
    (MANY_MATCHES; None when they are few, or when the condition scans). `many`: the search index holds more than
    MANY_MATCHES postings for it (a store that estimates large totals need not ask its planner first)."""

    sql: str
    params: dict[str, Any]
    walk: str | None = None
    many: bool = False


def indexed_search_condition(
    con: duckdb.DuckDBPyConnection, query: str, default_country: str = "US"
) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment (on contacts `c`) and parameters for a quick search, names, emails, phones and custom
    values answered from the search index; the same contacts as search_condition over the searched custom fields."""
    found = indexed_search(con, query, default_country)
    return found.sql, found.params


def indexed_search(con: duckdb.DuckDBPyConnection, query: str, default_country: str = "US") -> Search:
    """indexed_search_condition's condition, with its spelling for an index walk (see Search)."""
    text = " ".join(query.split())
    if not text:
        return Search("TRUE", {})
    keys = indexed_matches(con, text, default_country)
    custom = custom_matches(con, text)
    if keys is None:
        held = held_by_index(con, text, default_country)
        if held is None:  # names, emails and phones scanned; custom values still from the index
            names, params = search_condition(text, default_country)
            sources, custom_params = _custom_sources(custom)
            if not sources:
                return Search(names, params)
            return Search(f"({names} OR c.row_key IN ({' UNION ALL '.join(sources)}))", {**params, **custom_params})
        found = held
    elif custom.keys is not None:
        matches = sorted({*keys, *custom.keys})
        walk = dialect(con).list_contains("$search_keys", "c.row_key") if len(matches) >= MANY_MATCHES else None
        return Search("(c.row_key IN (SELECT unnest($search_keys)))", {"search_keys": matches}, walk)
    else:
        found = IndexSQL([], {"search_keys": keys})
    sources, custom_params = _custom_sources(custom)
    walked = found
    if keys is None and dialect(con).pages_by_index:
        walked = _listed_terms(con, text, default_country)
    # One IN over every source: each OR of two INs is a join of its own over the contacts. Over the postings it is
    # kept a mark join by IS TRUE: as a semi-join DuckDB builds its hash table on the contacts in scope (estimated
    # fewer than the postings) instead of on the matches: at 1,000,000 the page of 'gmail' (259,000) 84 -> 59 ms
    # CPU. A listed set is estimated small and joined the other way already (IS TRUE costs 4-9 ms there).
    listing = ["SELECT unnest($search_keys)"] if keys is not None else []
    listed = f"c.row_key IN ({' UNION ALL '.join([*listing, *found.sources, *sources])})"
    params = {**found.params, **walked.params, **custom_params}
    walk = _walk(con, keys is not None, [*walked.sources, *sources])
    return Search(dialect(con).mark_join(listed), params, walk, keys is None)


def _walk(con: duckdb.DuckDBPyConnection, listed: bool, sources: list[str]) -> str:
    """The contacts listed in $search_keys (when `listed`) or held by any of these selects of row_keys, tested one
    contact at a time: OFFSET 0 keeps the EXISTS a subplan run per row (PostgreSQL would otherwise join it, as it
    does the IN, and sort every match), each select narrowed to the contact by its index on row_key (migration
    044 on PostgreSQL: row_key and term_id, so the test reads the index only)."""
    held = f"EXISTS (SELECT 1 FROM ({' UNION ALL '.join(sources)}) held WHERE held.row_key = c.row_key OFFSET 0)"
    if not sources:
        held = "FALSE"
    return f"({dialect(con).list_contains('$search_keys', 'c.row_key')} OR {held})" if listed else held


def _listed_terms(con: duckdb.DuckDBPyConnection, text: str, default_country: str) -> IndexSQL:
    """held_by_index's selects of postings with each piece's terms listed (term IDs as a constant list, which
    PostgreSQL tests by a hash), for testing one contact at a time: its terms as a subquery were joined to each
    contact's postings by comparing with every term (the 736 terms of 'smith' at 10,000,000 contacts)."""
    store = dialect(con)
    _, pieces = query_pieces(con, text)
    chosen = [
        (*pieces[0], False),
        *((piece, position, True) for piece, position in _phone_pieces(text, default_country)),
    ]
    found = IndexSQL([], {})
    for j, (piece, position, phone) in enumerate(chosen):
        terms, params = piece_terms_sql(f"t{j}", piece, position, phone, store)
        ids = rows(con, f"SELECT {store.list_agg('term_id')} FROM ({terms}) t", params)[0][0]
        if ids:
            found.sources.append(
                f"SELECT row_key FROM search_postings WHERE {store.list_contains(f'$walk_terms_{j}', 'term_id')}"
            )
            found.params[f"walk_terms_{j}"] = ids
    return found


def _custom_sources(custom: CustomMatches) -> tuple[list[str], dict[str, Any]]:
    """The selects of row_keys (none, or one) that give a search's custom matches, with their parameters."""
    if custom.keys is None:
        return [custom.source], custom.params
    if custom.keys:
        return ["SELECT unnest($search_custom_keys)"], {"search_custom_keys": custom.keys}
    return [], {}
