"""Groups: pairs at or above a score joined into groups that can hold more than two, without chaining.

Pairs join into connected components; a component that holds a conflict (two members whose own
comparison scores strongly against, or that people marked as different) or that likely links grow past
MAX_GROUP is split: its links are taken strongest first and a link joins two parts only when no conflict
lies between them and, for a likely link, the joined part stays within MAX_GROUP. So one email shared by
two people and one phone shared with a third never make the first and the third one group.
"""

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

GROUP_COLUMNS = {"group_id": pl.String, "contact_id": pl.String, "score": pl.Float64, "evidence": pl.String}
# A group grows past this only by exact links (a switchboard phone); its pairs of members are all scored
# for conflicts up to this size.
MAX_GROUP = 25
# Members of a component up to this size are all scored against each other for conflicts (a component past
# MAX_GROUP is held together by exact links: a shared switchboard number or mailbox).
CONFLICT_GROUP = 200
LINK = ("group_id", "score", "evidence", "kind")  # what a member's best link carries
PAIR_SCHEMA = {"contact_a": pl.String, "contact_b": pl.String}


def components(pairs: pl.DataFrame) -> pl.DataFrame:
    """contact_id -> group_id (the smallest contact ID in its component) for every contact in `pairs`."""
    ids = pl.concat([pairs["contact_a"], pairs["contact_b"]]).unique().sort()
    if ids.is_empty():
        return pl.DataFrame(schema={"contact_id": pl.String, "group_id": pl.String})
    index = pl.DataFrame({"contact_id": ids, "i": pl.int_range(ids.len(), dtype=pl.Int64, eager=True)})
    edges = pairs.join(index, left_on="contact_a", right_on="contact_id").join(
        index, left_on="contact_b", right_on="contact_id", suffix="_b"
    )
    n = ids.len()
    graph = coo_matrix((np.ones(edges.height, dtype=np.int8), (edges["i"], edges["i_b"])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    labelled = index.with_columns(label=pl.Series(labels, dtype=pl.Int64))
    # IDs are sorted, so the first of each label is its smallest: a stable, readable group ID.
    return labelled.with_columns(group_id=pl.col("contact_id").first().over("label")).select("contact_id", "group_id")


def member_pairs(pairs: pl.DataFrame, max_size: int = CONFLICT_GROUP, budget: int | None = None) -> pl.DataFrame:
    """contact_a < contact_b of every two members of a component of 3 to `max_size` contacts that `pairs` does
    not link directly: the pairs whose own comparison can show the component chains different people.

    Within `budget` pairs (when given): components are taken smallest first while their pairs fit, as blocking
    rules take their blocks (a component past the budget is still split at its size cap)."""
    groups = components(pairs).with_columns(size=pl.len().over("group_id"))
    sizes = groups.filter(pl.col("size").is_between(3, max_size)).unique("group_id").sort("size", "group_id")
    if budget is not None:
        sizes = sizes.filter((pl.col("size") * (pl.col("size") - 1) // 2).cum_sum() <= budget)
    small = groups.filter(pl.col("group_id").is_in(sizes["group_id"].implode())).drop("size")
    inside = small.join(small, on="group_id", suffix="_b").filter(pl.col("contact_id") < pl.col("contact_id_b"))
    inside = inside.select(pl.col("contact_id").alias("contact_a"), pl.col("contact_id_b").alias("contact_b"))
    return inside.join(pairs.select("contact_a", "contact_b"), on=["contact_a", "contact_b"], how="anti")


def _split(edges: pl.DataFrame, conflicts: set[tuple[str, str]], max_size: int) -> dict[str, str]:
    """Contact -> part for the contacts of `edges`, joined strongest link first as the module says."""
    part: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    for a, b, kind in edges.select("contact_a", "contact_b", "kind").iter_rows():
        for contact in (a, b):
            if contact not in part:
                part[contact], members[contact] = contact, {contact}
        left, right = part[a], part[b]
        if left == right:
            continue
        if kind != "exact" and len(members[left]) + len(members[right]) > max_size:
            continue
        if any((min(x, y), max(x, y)) in conflicts for x in members[left] for y in members[right]):
            continue
        if len(members[left]) < len(members[right]):
            left, right = right, left
        for contact in members[right]:
            part[contact] = left
        members[left] |= members.pop(right)
    return part


def split_groups(pairs: pl.DataFrame, conflicts: pl.DataFrame | None = None, max_size: int = MAX_GROUP) -> pl.DataFrame:
    """contact_id -> group_id (its group's smallest contact ID): components of `pairs`, those holding one of
    `conflicts` (contact_a, contact_b) or grown past `max_size` split (see the module)."""
    groups = components(pairs)
    conflicts = pl.DataFrame(schema=PAIR_SCHEMA) if conflicts is None else conflicts.select("contact_a", "contact_b")
    inside = (
        conflicts.join(groups, left_on="contact_a", right_on="contact_id")
        .join(groups, left_on="contact_b", right_on="contact_id", suffix="_b")
        .filter(pl.col("group_id") == pl.col("group_id_b"))
    )
    too_big = groups.filter(pl.len().over("group_id") > max_size)["group_id"]
    split = pl.concat([inside["group_id"], too_big]).unique()
    if split.is_empty():
        return groups
    edges = (
        pairs.join(groups, left_on="contact_a", right_on="contact_id")
        .filter(pl.col("group_id").is_in(split.implode()))
        .sort(["score", "kind", "contact_a", "contact_b"], descending=[True, False, False, False])
    )
    part = _split(edges, set(inside.select("contact_a", "contact_b").iter_rows()), max_size)
    parts = pl.DataFrame(
        {"contact_id": list(part), "part": list(part.values())}, schema={"contact_id": pl.String, "part": pl.String}
    )
    parts = parts.with_columns(group_id=pl.col("contact_id").min().over("part")).select("contact_id", "group_id")
    return pl.concat([groups.filter(~pl.col("group_id").is_in(split.implode())), parts])


def group_members(
    pairs: pl.DataFrame, conflicts: pl.DataFrame | None = None, max_size: int = MAX_GROUP
) -> pl.DataFrame:
    """One row per contact in a group: group_id, contact_id, kind, its reason to be there (its best link inside
    the group: linked_to, score, evidence), the group's size, best score and weakest link (the lowest score
    among the pairs inside it). Groups are `split_groups` of `pairs` with `conflicts`.

    A group is 'exact' when its exact pairs alone connect all its members, else 'likely'.
    """
    if pairs.is_empty():
        return pl.DataFrame(
            schema={
                **GROUP_COLUMNS,
                "linked_to": pl.String,
                "kind": pl.String,
                "size": pl.UInt32,
                "best_score": pl.Float64,
                "weakest_score": pl.Float64,
            }
        )
    groups = split_groups(pairs, conflicts, max_size)
    # The pairs inside a group: a link a split cut no longer holds anyone in.
    inside = (
        pairs.join(groups, left_on="contact_a", right_on="contact_id")
        .join(groups, left_on="contact_b", right_on="contact_id", suffix="_b")
        .filter(pl.col("group_id") == pl.col("group_id_b"))
        .drop("group_id_b")
    )
    exact = components(inside.filter(pl.col("kind") == "exact")).rename({"group_id": "exact_group"})
    ends = pl.concat(
        [
            inside.select(pl.col("contact_a").alias("contact_id"), pl.col("contact_b").alias("linked_to"), *LINK),
            inside.select(pl.col("contact_b").alias("contact_id"), pl.col("contact_a").alias("linked_to"), *LINK),
        ]
    )
    best = ends.sort(["score", "kind", "linked_to"], descending=[True, False, False]).unique("contact_id", keep="first")
    weakest = inside.group_by("group_id").agg(pl.col("score").min().alias("weakest_score"))
    members = best.join(exact, on="contact_id", how="left").join(weakest, on="group_id")
    return (
        members.with_columns(
            size=pl.len().over("group_id"),
            best_score=pl.col("score").max().over("group_id"),
            kind=pl.when(
                (pl.col("exact_group").n_unique().over("group_id") == 1)
                & pl.col("exact_group").is_not_null().all().over("group_id")
            )
            .then(pl.lit("exact"))
            .otherwise(pl.lit("likely")),
        )
        .select(
            "group_id", "contact_id", "kind", "linked_to", "score", "evidence", "size", "best_score", "weakest_score"
        )
        .sort("group_id", "contact_id")
    )
