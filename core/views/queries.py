"""List views: one page of a segment with search, sorting and the total, paginated in SQL."""

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import duckdb
import polars as pl
from pydantic import BaseModel, Field, field_validator

from core.contacts.custom_values import value_column
from core.contacts.fields import DEFAULT_TABLE_COLUMNS, SORTABLE_KEYS, SYSTEM_FIELD_BY_KEY
from core.contacts.models import ContactPage
from core.contacts.validation import custom_fields, default_country
from core.db import frame, rows, scalar
from core.db.dialect import dialect
from core.errors import ContactsError
from core.views.filters import Filter, compile_filter, filter_fields
from core.views.fuzzy import database_stamp, fuzzy_condition
from core.views.search import Search, indexed_search
from core.views.segments import segment_condition

MAX_PAGE_SIZE = 500


class ListView(BaseModel):
    """What the list shows: a segment (system key, saved segment key, name or ID), a filter, a search,
    a sort and a page."""

    segment: str = "all"
    filter: Filter | None = None
    search: str = ""
    sort: str = "last_updated"
    descending: bool = True
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    columns: list[str] = Field(default_factory=lambda: list(DEFAULT_TABLE_COLUMNS))

    @field_validator("sort")
    @classmethod
    def _sortable(cls, value: str) -> str:
        if value not in SORTABLE_KEYS:
            raise ValueError(f"cannot sort by '{value}'")
        return value


class ViewSQL(NamedTuple):
    """A view's condition in parts: segment and filter, the exact and partial search, and the search's
    close spellings (None when the query has no word long enough to forgive typos); `walk` and `many` as
    core.views.search.Search has them (the search's spelling for a page read along a sort index)."""

    scope: str
    search: str
    fuzzy: str | None
    params: dict[str, Any]
    walk: str | None = None
    many: bool = False

    def condition(self) -> str:
        """Every contact in the view: in scope and found by the search or its close spellings."""
        found = self.search if self.fuzzy is None else f"({self.search} OR {self.fuzzy})"
        return f"{self.scope} AND {found}"


SearchSQL = tuple[Search, str | None, dict[str, Any]]  # exact and partial, close spellings
SEARCHES_KEPT = 32  # searches whose conditions a process keeps until the next write (see _kept_search_sql)

_searches: OrderedDict[tuple[Any, ...], SearchSQL] = OrderedDict()
# Sampled counts (estimated_count), kept like the searches until the next write: a search's next page reuses its
# first page's estimate (at 10,000,000 on PostgreSQL 'smith''s sample took 160-210 ms of each page).
_samples: OrderedDict[tuple[Any, ...], int] = OrderedDict()
_searches_lock = threading.Lock()
T = TypeVar("T")


def _search_sql(con: duckdb.DuckDBPyConnection, search: str) -> SearchSQL:
    """The search's condition and its close spellings' condition (None when it forgives no typo), with parameters."""
    found = indexed_search(con, search, default_country(con))
    fuzzy = fuzzy_condition(con, search)
    fuzzy_sql, fuzzy_params = fuzzy if fuzzy is not None else (None, {})
    return found, fuzzy_sql, fuzzy_params


def _kept_search_sql(con: duckdb.DuckDBPyConnection, search: str) -> SearchSQL:
    """_search_sql, kept per database until its next write (core.views.fuzzy.database_stamp: the contacts stamp, which
    on PostgreSQL every app process's writers move, or a DuckDB file changed by another process; never for an
    in-memory database): the next page, another sort or segment of the same search reuse it (at 1,000,000 contacts
    'smith' spends 50 of its 80 ms CPU finding it; at 10,000,000 on PostgreSQL a next page 384-411 -> 136-162 ms)."""
    stamp = database_stamp(con) if search.strip() else None
    if stamp is None:
        return _search_sql(con, search)
    return _kept(_searches, (*stamp, search), lambda: _search_sql(con, search))


def _kept(kept: OrderedDict[tuple[Any, ...], T], key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """compute(), kept in `kept` under `key` (its last SEARCHES_KEPT keys, the least recently used dropped)."""
    with _searches_lock:
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
            return found
    found = compute()
    with _searches_lock:
        kept[key] = found
        while len(kept) > SEARCHES_KEPT:
            kept.popitem(last=False)
    return found


def forget_searches() -> None:
    """Drop the searches this process keeps (a benchmark timing a search typed afresh)."""
    with _searches_lock:
        _searches.clear()
        _samples.clear()


def view_sql(con: duckdb.DuckDBPyConnection, view: ListView, user: str, reuse_search: bool = False) -> ViewSQL:
    """The view's condition in parts, with its parameters (see view_condition). `reuse_search` takes the search's
    conditions as this process found them since the last write: for reading only, never inside a transaction that
    writes (the stamp moves after the commit)."""
    segment_sql, params = segment_condition(con, view.segment, user)
    filter_sql, filter_params = "TRUE", dict[str, Any]()
    if view.filter is not None and not view.filter.is_empty():
        filter_sql, filter_params = compile_filter(view.filter, filter_fields(con), prefix="f", store=dialect(con))
    found = _kept_search_sql(con, view.search) if reuse_search else _search_sql(con, view.search)
    search, fuzzy_sql, fuzzy_params = found
    return ViewSQL(
        f"{segment_sql} AND {filter_sql}",
        search.sql,
        fuzzy_sql,
        {**params, **filter_params, **search.params, **fuzzy_params},
        search.walk,
        search.many,
    )


def view_condition(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> tuple[str, dict[str, Any]]:
    """The WHERE clause and parameters selecting every contact in the view (all pages).

    The one place that composes segment, filter and search: lists, counts and bulk actions over
    "the current view" all select through it.
    """
    parts = view_sql(con, view, user)
    return parts.condition(), parts.params


def count_view(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> int:
    """How many contacts the view holds across all pages."""
    where, params = view_condition(con, view, user)
    return scalar(con, f"SELECT count(*) FROM contacts c WHERE {where}", params)


def _column_sql(con: duckdb.DuckDBPyConnection, columns: list[str]) -> tuple[list[str], list[str]]:
    """SELECT expressions over `page` and the custom-value join they need; checked against allow-lists."""
    custom_keys = {field.key for field in custom_fields(con)}
    select, custom = ["page.contact_id", "page.version"], False
    for column in columns:
        if column in ("contact_id", "version"):
            continue
        if column in SYSTEM_FIELD_BY_KEY:
            select.append(f"page.{column}")
        elif column.startswith("custom.") and column.removeprefix("custom.") in custom_keys:
            select.append(f'{value_column(column.removeprefix("custom."), "cv")} AS "{column}"')
            custom = True
        else:
            raise ContactsError(f"'{column}' is not a field.", field="columns")
    # One row holds every custom field of a contact.
    return select, ["LEFT JOIN custom_values cv ON cv.contact_id = page.contact_id"] if custom else []


def _hits_sql(parts: ViewSQL, sort: str) -> str:
    """The view's narrow (row_key, sort_value, fuzzy_rank) rows: 0 for exact and partial matches, 1 for the close
    spellings only."""
    key = f"c.row_key, c.{sort} AS sort_value"
    if parts.fuzzy is None:
        return f"SELECT {key}, 0 AS fuzzy_rank FROM contacts c WHERE {parts.condition()}"
    # The exact search runs once, as before; the close spellings add an equality lookup of a few dozen words. Those
    # already found exactly are told by looking for the close ones among the exact, not the other way: a hash of
    # the close spellings' few rows instead of one of every exact match (at 1,000,000 'gmail' 259,000, 4 ms CPU).
    return (
        f"WITH exact AS MATERIALIZED (SELECT {key} FROM contacts c WHERE {parts.scope} AND {parts.search}), "
        f"close AS MATERIALIZED (SELECT {key} FROM contacts c WHERE {parts.scope} AND {parts.fuzzy}) "
        "SELECT row_key, sort_value, 0 AS fuzzy_rank FROM exact UNION ALL "
        "SELECT row_key, sort_value, 1 FROM close WHERE row_key NOT IN "
        "(SELECT e.row_key FROM exact e WHERE e.row_key IN (SELECT row_key FROM close))"
    )


# From and up to these positions a page's last row is found with a bounded heap (Dialect.nth_in_order) instead of
# a sort of every row: the Unassigned segment by last name, page 200 (284,000 rows), 54 -> 34 ms CPU at 1,000,000.
# Nearer the top DuckDB's own Top-N keeps such a heap already (first pages measured the same either way).
NTH_IN_ORDER_FROM = 1_000
NTH_IN_ORDER_LIMIT = 100_000


def _cut_by_heap(parts: ViewSQL, last: int) -> bool:
    """Whether the page's last row is found by Dialect.nth_in_order: no close spellings, and a deep page."""
    return parts.fuzzy is None and NTH_IN_ORDER_FROM <= last < NTH_IN_ORDER_LIMIT


def _cut_sql(con: duckdb.DuckDBPyConnection, parts: ViewSQL, descending: bool, last: int) -> str:
    """SQL: the `cut` row (n: whether the view reaches row `$last`, its rank and sort value) from `hits`."""
    if _cut_by_heap(parts, last):
        # No close spellings: every rank is 0, and with NULLS LAST the value is NULL exactly past the non-null ones
        # (the page then lies among the NULLs, and every row is near, as when the view has fewer rows).
        nth = dialect(con).nth_in_order("sort_value", "$position", descending)
        return f"SELECT 1 AS n, 0 AS rank, {nth} AS value FROM hits"
    order = f"fuzzy_rank, sort_value {'DESC' if descending else 'ASC'} NULLS LAST"
    return (
        "SELECT count(*) AS n, any_value(fuzzy_rank) AS rank, any_value(sort_value) AS value "
        f"FROM (SELECT fuzzy_rank, sort_value FROM hits ORDER BY {order} LIMIT 1 OFFSET $last)"
    )


def _page_ids(
    con: duckdb.DuckDBPyConnection, parts: ViewSQL, sort: str, descending: bool, limit: int, offset: int
) -> tuple[int, list[str]]:
    """The view's total and one page of its IDs (exact and partial matches first), evaluating the view's
    condition once."""
    direction, reaches = ("DESC", ">=") if descending else ("ASC", "<=")
    order = f"fuzzy_rank, sort_value {direction} NULLS LAST"
    last = offset + limit - 1
    # Sorting narrow (row_key, sort value) rows is cheap; the last row the page needs (`cut`) then keeps only the
    # rows sorted before it or tied with it, and only those few are joined for the contact_id that breaks ties:
    # at 1,000,000 contacts a first page costs 20 ms instead of 36 (a whole sort on contact_id strings).
    # MATERIALIZED keeps DuckDB from running the condition again for the count and the cut.
    found = rows(
        con,
        f"WITH hits AS MATERIALIZED ({_hits_sql(parts, sort)}), cut AS ({_cut_sql(con, parts, descending, last)}), "
        "near AS (SELECT h.* FROM hits h, cut WHERE cut.n = 0 OR h.fuzzy_rank < cut.rank "
        f"OR (h.fuzzy_rank = cut.rank AND (cut.value IS NULL OR h.sort_value {reaches} cut.value))) "
        "SELECT (SELECT count(*) FROM hits), (SELECT list(contact_id) FROM (SELECT c.contact_id FROM near "
        f"JOIN contacts c USING (row_key) ORDER BY {order}, c.contact_id LIMIT $limit OFFSET $offset) AS page_ids)",
        {**parts.params, "limit": limit, "offset": offset, **_cut_params(parts, last)},
    )
    return found[0][0], found[0][1] or []


def _cut_params(parts: ViewSQL, last: int) -> dict[str, int]:
    """The cut's parameter: the page's last row, from 0 (`$last`) or from 1 (`$position`, see _cut_sql)."""
    return {"position": last + 1} if _cut_by_heap(parts, last) else {"last": last}


# Where the store estimates (Dialect.estimated_rows_sql), a view holding more contacts than this shows its total as
# an estimate ("about 9,700,000"): an exact count of millions of rows reads them all (10,000,000 contacts on
# PostgreSQL: 2-13 s). At or under it the total is counted. The estimate is a count over a fixed sample of
# SAMPLE_PERCENT of the table's pages (the planner's own estimate is too rough for a filter: 1.9M for 555,000 at
# 10M; the sample said 545,000 in 60-100 ms).
EXACT_COUNT_UP_TO = 100_000
SAMPLE_PERCENT = 1.0
# A search with many matches (ViewSQL.walk) is estimated from a smaller sample, each sampled contact tested against the
# search index one at a time, and past fewer matches: counting them exactly costs a read of each (at 10,000,000 on
# PostgreSQL 'smith''s 86,000: 1.3 s, and its close spellings 3 s; the 0.2% sample 0.23-0.35 s).
SEARCH_SAMPLE_PERCENT = 0.1
SEARCH_EXACT_COUNT_UP_TO = 10_000


# The sorts migration 035 gives PostgreSQL an index for, in the list's order (sort column, descending): a page of a
# search with many matches is read along it, testing one contact at a time (ViewSQL.walk), and stops at the page.
INDEXED_SORTS = frozenset({("last_updated", True), ("created_on", True), ("last_name", False), ("first_name", False)})


def _page_ids_by_index(
    con: duckdb.DuckDBPyConnection, parts: ViewSQL, sort: str, descending: bool, limit: int, offset: int
) -> list[str]:
    """One page of the view's IDs in one ORDER BY ... LIMIT (see Dialect.pages_by_index): the store reads it along
    migration 035's index on the sort column where there is one, and stops at the page; a search with many matches
    is tested there one contact at a time (ViewSQL.walk). Close spellings come after the exact and partial matches:
    the exact page first, then, past the exact matches, the close spellings that are not exact matches (few)."""
    walk = parts.walk if parts.walk is not None and (sort, descending) in INDEXED_SORTS else parts.search
    order = f"c.{sort} {'DESC' if descending else 'ASC'} NULLS LAST, c.contact_id"

    def ids(where: str, count: int, skip: int) -> list[str]:
        sql = f"SELECT c.contact_id FROM contacts c WHERE {where} ORDER BY {order} LIMIT $limit OFFSET $offset"
        found = rows(con, sql, {**_params_in(sql, parts.params), "limit": count, "offset": skip})
        return [contact_id for (contact_id,) in found]

    exact = ids(f"{parts.scope} AND {walk}", limit, offset)
    if parts.fuzzy is None or len(exact) == limit:
        return exact
    before = offset + len(exact)  # the exact matches: the page ended among them
    if not exact and offset:  # the page lies past them: how many (at most `offset`)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM contacts c WHERE {parts.scope} AND {parts.search} LIMIT $offset) e"
        before = scalar(con, sql, {**_params_in(sql, parts.params), "offset": offset})
    close = f"{parts.scope} AND {parts.fuzzy} AND ({walk}) IS NOT TRUE"
    return exact + ids(close, limit - len(exact), max(0, offset - before))


def _params_in(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters `sql` names (a statement reading part of a view: DuckDB refuses parameters it does not use)."""
    return {name: value for name, value in params.items() if re.search(rf"\${name}\b", sql)}


def estimated_count(
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: dict[str, Any],
    sampled: str | None = None,
    many: bool = False,
    percent: float | None = None,
    exact_up_to: int | None = None,
) -> int | None:
    """An estimate of how many contacts `where` selects when it is likely over `exact_up_to` (EXACT_COUNT_UP_TO
    unless given; the planner expects as many, or `many` says so: then a count over a sample of `percent` of the
    table, SAMPLE_PERCENT unless given), else None: count exactly (always on DuckDB). `sampled`: the condition the
    sample counts, when not `where` (a search's, spelled to test one contact at a time, ViewSQL.walk, with its close
    spellings)."""
    store = dialect(con)
    percent = SAMPLE_PERCENT if percent is None else percent
    limit = EXACT_COUNT_UP_TO if exact_up_to is None else exact_up_to
    plan_sql = store.estimated_rows_sql(f"SELECT 1 FROM contacts c WHERE {where}")
    if plan_sql is None:
        return None
    if not many:
        plan = scalar(con, plan_sql, _params_in(plan_sql, params))
        found = json.loads(plan) if isinstance(plan, str) else plan
        if int(found[0]["Plan"]["Plan Rows"]) <= limit:
            return None
    sample_sql = store.sampled_count_sql("contacts", "c", sampled or where, percent)
    if sample_sql is None:
        return None
    estimate = int(_sampled_count(con, sample_sql, _params_in(sample_sql, params)) * 100 / percent)
    return estimate if estimate > limit else None


def _sampled_count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> int:
    """The sample's count, kept per database until its next write (see _kept_search_sql)."""
    stamp = database_stamp(con)
    if stamp is None:
        return int(scalar(con, sql, params))
    key = (*stamp, sql, *((name, tuple(v) if isinstance(v, list) else v) for name, v in sorted(params.items())))
    try:
        hash(key)
    except TypeError:  # a parameter that cannot be a key
        return int(scalar(con, sql, params))
    return _kept(_samples, key, lambda: int(scalar(con, sql, params)))


def rounded_estimate(count: int) -> int:
    """An estimate to two significant figures (9,701,370 -> 9,700,000): no more precise than it is."""
    return count if count < 100 else int(round(count, 2 - len(str(count))))


def _view_total(con: duckdb.DuckDBPyConnection, parts: ViewSQL, shown: int, page: int, size: int) -> tuple[int, bool]:
    """The view's total and whether it is an estimate (see EXACT_COUNT_UP_TO). A first page that is not full is
    the whole view. Counted, the exact and partial matches and the close spellings that are not among them are
    counted apart, as the page reads them: an OR of the two was tested on every contact (at 1,000,000 'smith' 1.6 s).
    A search with a walk (ViewSQL.walk) is estimated from a sample tested one contact at a time."""
    if page == 1 and shown < size:
        return shown, False
    walk = parts.search if parts.walk is None else parts.walk
    exact = f"{parts.scope} AND {parts.search}"
    sampled = f"{parts.scope} AND {walk}" if parts.fuzzy is None else f"{parts.scope} AND ({walk} OR {parts.fuzzy})"
    percent, limit = (
        (SAMPLE_PERCENT, EXACT_COUNT_UP_TO) if parts.walk is None else (SEARCH_SAMPLE_PERCENT, SEARCH_EXACT_COUNT_UP_TO)
    )
    estimate = estimated_count(con, exact, parts.params, sampled, parts.many, percent, limit)
    if estimate is not None:
        reached = (page - 1) * size + shown if shown else 0  # an empty page past the end: the estimate
        return max(rounded_estimate(estimate), reached), True
    close = 0
    if parts.fuzzy is not None:
        close_sql = f"SELECT count(*) FROM contacts c WHERE {parts.scope} AND {parts.fuzzy} AND ({walk}) IS NOT TRUE"
        close = scalar(con, close_sql, _params_in(close_sql, parts.params))
    count_sql = f"SELECT count(*) FROM contacts c WHERE {exact}"
    return scalar(con, count_sql, _params_in(count_sql, parts.params)) + close, False


def list_contacts(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> ContactPage:
    """One page of the view, sorted (a search's close spellings after its exact and partial matches), with the
    total count of the whole view."""
    parts = view_sql(con, view, user, reuse_search=True)
    size = view.page_size
    estimated = False
    if dialect(con).pages_by_index:
        ids = _page_ids_by_index(con, parts, view.sort, view.descending, size, (view.page - 1) * size)
        total, estimated = _view_total(con, parts, len(ids), view.page, size)
        page = min(view.page, max(1, -(-total // size)))
        if page != view.page and not ids:  # asked past the last page: show the last one
            ids = _page_ids_by_index(con, parts, view.sort, view.descending, size, (page - 1) * size)
        else:
            page = view.page
    else:
        total, ids = _page_ids(con, parts, view.sort, view.descending, size, (view.page - 1) * size)
        page = min(view.page, max(1, -(-total // size)))
        if page != view.page:  # asked past the last page: show the last one
            total, ids = _page_ids(con, parts, view.sort, view.descending, size, (page - 1) * size)
    select, joins = _column_sql(con, view.columns)
    # Sorting narrow (row_key, sort key) rows and then reading 50 whole rows by their primary key (an index lookup;
    # by row_key it is a scan of every column) is several times faster.
    sql = (
        "WITH page AS (SELECT * FROM contacts WHERE contact_id IN (SELECT unnest($ids))) "
        f"SELECT {', '.join(select)} FROM page {' '.join(joins)} ORDER BY list_position($ids, page.contact_id)"
    )
    return ContactPage(total=total, estimated=estimated, page=page, page_size=size, rows=frame(con, sql, {"ids": ids}))


def view_contact_ids(con: duckdb.DuckDBPyConnection, view: ListView, user: str) -> list[str]:
    """Every contact ID in the view (for acting on a whole view)."""
    where, params = view_condition(con, view, user)
    return frame(con, f"SELECT contact_id FROM contacts c WHERE {where}", params)["contact_id"].to_list()


def empty_page(view: ListView) -> pl.DataFrame:
    """A frame with the view's columns and no rows."""
    return pl.DataFrame({column: [] for column in ["contact_id", *view.columns]})
