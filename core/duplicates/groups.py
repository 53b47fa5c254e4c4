"""Groups: pairs at or above a score joined into groups, without chaining different people together.

Pairs join into connected components. A component of three or more is then rebuilt strongest link first
(Kruskal's order: exact pairs, then by score): two parts join only when no pair across them is a conflict
(a pair inside the group whose evidence says they are different people, found by `core.duplicates.likely`).
So A~B~C, where A and C are different people, becomes {A, B} and {C} instead of one group.

Each member says why it is in its group: its best link inside the group (`linked_to`, with that pair's
kind, score and evidence); each group reports its weakest link (`weakest_score`): the lowest score among
the links that hold it together.
"""

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

GROUP_COLUMNS = {
    "group_id": pl.String,
    "contact_id": pl.String,
    "kind": pl.String,
    "score": pl.Float64,
    "evidence": pl.String,
    "size": pl.UInt32,
    "best_score": pl.Float64,
    "linked_to": pl.String,
    "weakest_score": pl.Float64,
}
PAIR_SCHEMA = {"contact_a": pl.String, "contact_b": pl.String, "kind": pl.String, "score": pl.Float64}


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


class _Parts:
    """Union-find over contact IDs that remembers, per part, its members and who they conflict with."""

    def __init__(self, conflicts: dict[str, set[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.against: dict[str, set[str]] = {}
        self.conflicts = conflicts

    def find(self, contact: str) -> str:
        if contact not in self.parent:
            self.parent[contact] = contact
            self.members[contact] = {contact}
            self.against[contact] = set(self.conflicts.get(contact, ()))
        root = contact
        while self.parent[root] != root:
            root = self.parent[root]
        self.parent[contact] = root
        return root

    def join(self, a: str, b: str) -> bool:
        """Join the parts of a and b unless they are one already or a pair across them conflicts."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b or self.against[root_a] & self.members[root_b]:
            return False
        if len(self.members[root_a]) < len(self.members[root_b]):
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.members[root_a] |= self.members.pop(root_b)
        self.against[root_a] |= self.against.pop(root_b)
        return True


def split_groups(pairs: pl.DataFrame, conflicts: pl.DataFrame | None = None) -> pl.DataFrame:
    """The links that hold groups together (contact_a, contact_b, kind, score, group_id), strongest first,
    no group holding a conflicting pair: contacts joined into a component only through weak bridges split."""
    if pairs.is_empty():
        return pairs.select(*PAIR_SCHEMA).with_columns(group_id=pl.lit(None, pl.String))
    parts = components(pairs)
    sizes = parts.group_by("group_id").len()
    big = set(parts.join(sizes.filter(pl.col("len") >= 3), on="group_id")["contact_id"])
    edges = pairs.with_columns(in_big=pl.col("contact_a").is_in(big))
    against: dict[str, set[str]] = {}
    if conflicts is not None:
        for a, b in conflicts.filter(pl.col("contact_a").is_in(big)).select("contact_a", "contact_b").iter_rows():
            against.setdefault(a, set()).add(b)
            against.setdefault(b, set()).add(a)
    # Components of two are their own one link; bigger ones are rebuilt strongest link first.
    small = edges.filter(~pl.col("in_big")).select(*PAIR_SCHEMA)
    ordered = (
        edges.filter(pl.col("in_big"))
        .with_columns(exact=pl.col("kind") == "exact")
        .sort(["exact", "score", "contact_a", "contact_b"], descending=[True, True, False, False])
    )
    union = _Parts(against)
    used = [union.join(a, b) for a, b in ordered.select("contact_a", "contact_b").iter_rows()]
    spanning = ordered.filter(pl.Series(used, dtype=pl.Boolean)).select(*PAIR_SCHEMA)
    links = pl.concat([small, spanning])
    return links.join(components(links), left_on="contact_a", right_on="contact_id")


def group_members(pairs: pl.DataFrame, conflicts: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per contact in a group: group_id, contact_id, kind, score, evidence, size, best_score, linked_to
    and weakest_score. A member's kind, score and evidence are those of its best link inside its group
    (`linked_to` the other contact). A group is 'exact' when its exact pairs alone connect all its members,
    else 'likely'.
    """
    if pairs.is_empty():
        return pl.DataFrame(schema=GROUP_COLUMNS)
    links = split_groups(pairs, conflicts)
    groups = links.select("group_id", "contact_a").rename({"contact_a": "contact_id"})
    groups = pl.concat([groups, links.select("group_id", pl.col("contact_b").alias("contact_id"))]).unique()
    weakest = links.group_by("group_id").agg(weakest_score=pl.col("score").min())
    # Every pair inside a final group can explain a member, not only the links that built it.
    inside = pairs.join(groups, left_on="contact_a", right_on="contact_id").join(
        groups, left_on="contact_b", right_on="contact_id", suffix="_b"
    )
    inside = inside.filter(pl.col("group_id") == pl.col("group_id_b"))
    ends = pl.concat(
        [
            inside.select(
                "group_id",
                pl.col("contact_a").alias("contact_id"),
                pl.col("contact_b").alias("linked_to"),
                "score",
                "evidence",
                "kind",
            ),
            inside.select(
                "group_id",
                pl.col("contact_b").alias("contact_id"),
                pl.col("contact_a").alias("linked_to"),
                "score",
                "evidence",
                "kind",
            ),
        ]
    )
    best = ends.sort(["score", "kind", "linked_to"], descending=[True, False, False]).unique("contact_id", keep="first")
    exact = components(inside.filter(pl.col("kind") == "exact")).rename({"group_id": "exact_group"})
    members = best.join(exact, on="contact_id", how="left").join(weakest, on="group_id")
    return (
        members.with_columns(
            size=pl.len().over("group_id").cast(pl.UInt32),
            best_score=pl.col("score").max().over("group_id"),
            kind=pl.when(
                (pl.col("exact_group").n_unique().over("group_id") == 1)
                & pl.col("exact_group").is_not_null().all().over("group_id")
            )
            .then(pl.lit("exact"))
            .otherwise(pl.lit("likely")),
        )
        .select(*GROUP_COLUMNS)
        .sort("group_id", "contact_id")
    )
