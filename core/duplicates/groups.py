"""Groups: pairs at or above a score joined into connected components, so a group can hold more than two."""

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

GROUP_COLUMNS = {"group_id": pl.String, "contact_id": pl.String, "score": pl.Float64, "evidence": pl.String}


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


def group_members(pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per contact in a group: group_id, contact_id, kind, score and evidence of its best pair, the
    group's size, best score and weakest link (the lowest score among its pairs).

    A group is 'exact' when its exact pairs alone connect all its members, else 'likely'.
    """
    if pairs.is_empty():
        return pl.DataFrame(
            schema={
                **GROUP_COLUMNS,
                "kind": pl.String,
                "size": pl.UInt32,
                "best_score": pl.Float64,
                "weakest_score": pl.Float64,
            }
        )
    groups = components(pairs)
    exact = components(pairs.filter(pl.col("kind") == "exact")).rename({"group_id": "exact_group"})
    ends = pl.concat(
        [
            pairs.select(pl.col("contact_a").alias("contact_id"), "score", "evidence", "kind"),
            pairs.select(pl.col("contact_b").alias("contact_id"), "score", "evidence", "kind"),
        ]
    )
    best = ends.sort(["score", "kind"], descending=[True, False]).unique("contact_id", keep="first")
    # The group's weakest link: every pair of a component lies inside it, so its lowest score holds it together.
    weakest = (
        pairs.join(groups, left_on="contact_a", right_on="contact_id")
        .group_by("group_id")
        .agg(pl.col("score").min().alias("weakest_score"))
    )
    members = groups.join(best, on="contact_id").join(exact, on="contact_id", how="left").join(weakest, on="group_id")
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
        .select("group_id", "contact_id", "kind", "score", "evidence", "size", "best_score", "weakest_score")
        .sort("group_id", "contact_id")
    )
