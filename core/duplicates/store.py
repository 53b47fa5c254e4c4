"""Detection runs kept in the database, the groups they give at a chosen score, and "not a duplicate" marks."""

import time
from datetime import datetime, timedelta
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel

from core.accounts.permissions import writes
from core.contacts.activity import now
from core.db import frame, rows, scalar, scratch, transaction
from core.db.extract import write_back
from core.duplicates.blocking import BlockingCount
from core.duplicates.exact import exact_pairs
from core.duplicates.groups import group_members
from core.duplicates.keys import PLUS_TAG_DOMAINS, email_key
from core.duplicates.likely import ScoredPairs, score_pairs
from core.duplicates.source import detection_store
from core.errors import ContactsError

Kind = Literal["exact", "likely"]
# Likely pairs at or above this score form groups unless the user moves the threshold: 0.5, more likely one
# person than not, since a field left blank weighs what the data says (comparisons.blank) and the scores follow
# the share of true pairs (they were 1-2 bits under it on noisy data, over it for the demo's namesakes). The
# groups' F1 at 0.5/0.6/0.7: noisy 1M 0.9573/0.9569/0.9552, noisy 100k 0.9630/0.9614/0.9590, demo 1M
# 0.9902/0.9898/0.9890, demo 100k 0.9909/0.9913/0.9913; FEBRL 1-3 the same at 0.5 and 0.7.
DEFAULT_MIN_SCORE = 0.5


class DuplicateRun(BaseModel):
    """One detection run: when, by whom, over how many contacts, what it found and how long it took."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    actor: str
    contacts: int
    exact_pairs: int
    likely_pairs: int
    exact_only: bool
    # What each blocking rule proposed (none for an exact-only run), most pairs first.
    rules: list[BlockingCount] = []

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@writes("duplicates.find")
def find_duplicates(con: duckdb.DuckDBPyConnection, actor: str, exact_only: bool = False) -> DuplicateRun:
    """Detect exact (and unless `exact_only`, likely) pairs over every contact; they replace the last run's."""
    started, clock = now(), time.perf_counter()
    with detection_store(con) as work:  # on PostgreSQL: an in-process DuckDB over extracts, read once
        exact = exact_pairs(work)
        if exact_only:
            _store_run(con, work, started, clock, actor, exact, None)
        else:
            with score_pairs(work, exact=exact) as found:
                _store_run(con, work, started, clock, actor, exact, found)
    run = last_run(con)
    assert run is not None  # written just above
    return run


def _store_run(
    con: duckdb.DuckDBPyConnection,
    work: duckdb.DuckDBPyConnection,
    started: datetime,
    clock: float,
    actor: str,
    exact: pl.DataFrame,
    found: ScoredPairs | None,
) -> None:
    """Replace the last run's pairs, conflicts and rule counts by these (`found` None: an exact-only run), and
    record the run, in one transaction. The likely pairs go from the detection connection `work` straight to the
    store (core.db.extract.write_back): at 10,000,000 contacts they are millions, each with its evidence."""
    finished = started + timedelta(seconds=time.perf_counter() - clock)
    with transaction(con):
        con.execute("DELETE FROM duplicate_pairs")
        con.execute("DELETE FROM duplicate_conflicts")
        if not exact.is_empty():
            with scratch(con, exact) as kept:
                con.execute(
                    f"INSERT INTO duplicate_pairs SELECT contact_a, contact_b, kind, score, evidence FROM {kept}"
                )
        if found is not None:
            columns = "contact_a, contact_b, kind, score, evidence"
            write_back(con, work, "duplicate_pairs", f"SELECT {columns} FROM {found.likely}")
            if not found.conflicts.is_empty():
                with scratch(con, found.conflicts) as apart:
                    con.execute(
                        f"INSERT INTO duplicate_conflicts SELECT contact_a, contact_b, score, evidence FROM {apart}"
                    )
        run_id = scalar(
            con,
            "INSERT INTO duplicate_runs (started_at, finished_at, actor, contacts, exact_pairs, likely_pairs, "
            "exact_only) SELECT ?, ?, ?, count(*), ?, ?, ? FROM contacts RETURNING run_id",
            [started, finished, actor, exact.height, found.likely_count if found else 0, found is None],
        )
        if found is not None and found.blocking:
            counts = pl.DataFrame([count.model_dump() for count in found.blocking]).with_columns(run_id=pl.lit(run_id))
            with scratch(con, counts) as counted:
                columns = "run_id, rule, pairs, left_out, largest_block"
                con.execute(f"INSERT INTO duplicate_run_rules SELECT {columns} FROM {counted}")


def last_run(con: duckdb.DuckDBPyConnection) -> DuplicateRun | None:
    """The newest detection run, or None if duplicates were never looked for."""
    found = frame(con, "SELECT * FROM duplicate_runs ORDER BY run_id DESC LIMIT 1").to_dicts()
    if not found:
        return None
    counts = frame(
        con,
        "SELECT rule, pairs, left_out, largest_block FROM duplicate_run_rules WHERE run_id = ? "
        "ORDER BY pairs DESC, rule",
        [found[0]["run_id"]],
    )
    return DuplicateRun(**found[0], rules=[BlockingCount(**count) for count in counts.to_dicts()])


def current_pairs(
    con: duckdb.DuckDBPyConnection,
    min_score: float = DEFAULT_MIN_SCORE,
    kind: Kind | None = None,
    touching: list[str] | None = None,
) -> pl.DataFrame:
    """The last run's pairs still worth showing: both contacts exist, not marked different, score high enough.

    Exact pairs always count; `kind='exact'` keeps only them; `touching` keeps pairs with one of those contacts.
    """
    only_exact = "AND p.kind = 'exact'" if kind == "exact" else ""
    if touching is not None:
        only_exact += " AND (p.contact_a IN (SELECT unnest($ids)) OR p.contact_b IN (SELECT unnest($ids)))"
    return frame(
        con,
        f"""
        SELECT p.contact_a, p.contact_b, p.kind, p.score, p.evidence FROM duplicate_pairs p
        WHERE (p.kind = 'exact' OR p.score >= $min_score) {only_exact}
          AND p.contact_a IN (SELECT contact_id FROM contacts) AND p.contact_b IN (SELECT contact_id FROM contacts)
          AND NOT EXISTS (SELECT 1 FROM not_duplicates n WHERE n.contact_a = p.contact_a AND n.contact_b = p.contact_b)
        """,
        {"min_score": min_score} | ({"ids": touching} if touching is not None else {}),
    )


def conflicts(con: duckdb.DuckDBPyConnection, touching: list[str] | None = None) -> pl.DataFrame:
    """contact_a, contact_b of the pairs that must not share a group: scored strongly against by the last run
    (duplicate_conflicts) or marked as different people; `touching` keeps those with one of these contacts."""
    near = "WHERE contact_a IN (SELECT unnest($ids)) OR contact_b IN (SELECT unnest($ids))" if touching else ""
    return frame(
        con,
        f"""SELECT contact_a, contact_b FROM (
                SELECT contact_a, contact_b FROM duplicate_conflicts
                UNION SELECT contact_a, contact_b FROM not_duplicates) {near}""",
        {"ids": touching} if touching else None,
    )


def duplicate_groups(
    con: duckdb.DuckDBPyConnection, min_score: float = DEFAULT_MIN_SCORE, kind: Kind | None = None
) -> pl.DataFrame:
    """One row per contact in a group: group_id, contact_id, kind, linked_to, score, evidence (its best link
    inside the group), size, best_score, weakest_score. Groups holding a conflict are split (see groups)."""
    members = group_members(current_pairs(con, min_score, kind), conflicts(con))
    return members.filter(pl.col("kind") == kind) if kind else members


def group_summaries(members: pl.DataFrame) -> pl.DataFrame:
    """One row per group: group_id, size, best_score, weakest_score, kind and the evidence of its best pair."""
    return (
        members.sort("score", descending=True)
        .group_by("group_id", maintain_order=True)
        .agg(
            pl.col("size").first(),
            pl.col("best_score").first(),
            pl.col("weakest_score").first(),
            pl.col("kind").first(),
            pl.col("evidence").first(),
            pl.col("contact_id").sort().alias("contact_ids"),
        )
        .sort(["best_score", "size", "group_id"], descending=[True, True, False])
    )


def group_of(con: duckdb.DuckDBPyConnection, contact_id: str, min_score: float = DEFAULT_MIN_SCORE) -> pl.DataFrame:
    """The members of the group `contact_id` belongs to (empty if none), as duplicate_groups gives them.

    Follows the pairs outward from the contact instead of grouping every contact, so a details page
    stays fast at a million contacts.
    """
    reached = {contact_id}
    while True:
        pairs = current_pairs(con, min_score, touching=sorted(reached))
        grown = reached | set(pairs["contact_a"]) | set(pairs["contact_b"])
        if grown == reached:
            break
        reached = grown
    members = group_members(pairs, conflicts(con, sorted(reached)))
    return members.filter(
        pl.col("group_id").is_in(members.filter(pl.col("contact_id") == contact_id)["group_id"].implode())
    )


def same_email_or_phone(con: duckdb.DuckDBPyConnection, contact_id: str) -> list[str]:
    """Other contacts with this contact's mailbox (core.duplicates.keys) or phone, found now, not by the last run."""
    found = rows(con, "SELECT email, phone FROM contacts WHERE contact_id = ?", [contact_id])
    if not found:
        return []
    email, phone = found[0]
    key = email_key(email)
    local, _, domain = (key or "").rpartition("@")
    # A cheap filter that keeps every address with this mailbox, so the exact key is computed for a few rows
    # only. Elsewhere than at a provider that ignores dots or +tags, the key is the address trimmed and lower-cased
    # (an equality DuckDB tests fast; no index: see migration 032). At such a provider, the addresses starting
    # with the mailbox name once dots are gone.
    params: dict[str, object] = {"id": contact_id, "phone": phone}
    if key is None:
        candidates = "FALSE"
    elif local and domain in PLUS_TAG_DOMAINS:
        candidates = "email ILIKE $first AND starts_with(replace(lower(email), '.', ''), $stem)"
        params |= {"first": f"{local[0]}%", "stem": local.replace(".", "")}
    else:
        candidates = "lower(trim(email)) = $key"
        params["key"] = key
    # The key is compared here, on the few candidates: the store needs no macro of its own (PostgreSQL too).
    found = rows(
        con,
        f"""SELECT contact_id, email, phone = $phone FROM contacts
            WHERE contact_id <> $id AND (phone = $phone OR {candidates})""",
        params,
    )
    others = sorted({other for other, address, same_phone in found if same_phone or email_key(address) == key})
    if not others:
        return []
    apart = rows(
        con,
        "SELECT contact_a, contact_b FROM not_duplicates "
        "WHERE (contact_a = $id AND contact_b IN (SELECT unnest($ids))) "
        "OR (contact_b = $id AND contact_a IN (SELECT unnest($ids)))",
        {"id": contact_id, "ids": others},
    )
    marked = {a if b == contact_id else b for a, b in apart}
    return [other for other in others if other not in marked][:100]


@writes("duplicates.not_duplicate")
def mark_not_duplicates(con: duckdb.DuckDBPyConnection, contact_ids: list[str], actor: str) -> int:
    """Record that these contacts are different people: no pair among them is proposed again."""
    ids = sorted(set(contact_ids))
    if len(ids) < 2:
        raise ContactsError("Choose at least two contacts that are different people.", field="contacts")
    with transaction(con):
        known = scalar(con, "SELECT count(*) FROM contacts WHERE contact_id IN (SELECT unnest($ids))", {"ids": ids})
        if known != len(ids):
            raise ContactsError("Some of these contacts no longer exist; reload the group.", field="contacts")
        inserted = rows(
            con,
            """
            INSERT INTO not_duplicates
            SELECT a.id, b.id, $actor, $at FROM unnest($ids) a(id) JOIN unnest($ids) b(id) ON a.id < b.id
            ON CONFLICT DO NOTHING RETURNING contact_a
            """,
            {"ids": ids, "actor": actor, "at": now()},
        )
    return len(inserted)
