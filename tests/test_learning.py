"""Learning from the data: EM recovers known m, u comes from random pairs, names sound alike, groups do not chain,
and detection end to end on the independent noisy generator keeps an F1 floor."""

import numpy as np
import polars as pl
import pytest

from core.duplicates.comparisons import Comparison, Level, unknown
from core.duplicates.groups import group_members
from core.duplicates.learning import expectation_maximisation, u_from_random_pairs
from core.duplicates.names import sound_key, usual_name

# Two three-level comparisons (plus a silent 'unknown' first) with known m and u.
A = Comparison(
    "a",
    "g_a",
    (unknown("x"), Level("same", "s", 0.5, 0.5), Level("close", "c", 0.5, 0.5), Level("no", "TRUE", 0.5, 0.5)),
)
B = Comparison(
    "b",
    "g_b",
    (unknown("y"), Level("same", "s", 0.5, 0.5), Level("close", "c", 0.5, 0.5), Level("no", "TRUE", 0.5, 0.5)),
)
TRUE_M = [np.array([1.0, 0.7, 0.2, 0.1, 1.0]), np.array([1.0, 0.8, 0.15, 0.05, 1.0])]
TRUE_U = [np.array([1.0, 0.02, 0.08, 0.9, 1.0]), np.array([1.0, 0.01, 0.05, 0.94, 1.0])]
C = Comparison("c", "g_c", (Level("same", "s", 0.5, 0.5), Level("no", "TRUE", 0.5, 0.5)))


def test_em_recovers_known_m_and_match_share_from_pattern_counts():
    rng = np.random.default_rng(3)
    c_m, c_u = np.array([0.9, 0.1, 1.0]), np.array([0.05, 0.95, 1.0])
    matches, strangers = 20_000, 80_000
    rows = []
    for n, m_or_u in ((matches, (TRUE_M, c_m)), (strangers, (TRUE_U, c_u))):
        ab, c = m_or_u
        a = rng.choice([1, 2, 3], size=n, p=ab[0][1:4])
        b = rng.choice([1, 2, 3], size=n, p=ab[1][1:4])
        cc = rng.choice([0, 1], size=n, p=c[:2])
        rows.append(np.stack([a, b, cc], axis=1))
    levels = np.concatenate(rows)
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    assert len(patterns) <= 18  # EM runs on the small table of level patterns, not on the pairs
    fit = expectation_maximisation((A, B, C), patterns, counts.astype(float), [*TRUE_U, c_u], [True, True, True])
    assert fit.match_share == pytest.approx(0.2, abs=0.01)
    for k, truth in enumerate(TRUE_M):
        assert fit.m[k][1:4] == pytest.approx(truth[1:4], abs=0.02)
    assert fit.m[2][:2] == pytest.approx(c_m[:2], abs=0.02)
    assert fit.m[0][0] == 1.0 and fit.m[0][4] == 1.0  # silent indexes carry no evidence


def test_u_comes_from_random_pairs_and_a_rare_level_keeps_its_prior():
    sample = pl.DataFrame({"g_a": [1] * 20 + [2] * 30 + [3] * 945 + [0] * 5, "g_b": [3] * 995 + [1] * 5})
    u_a, u_b = u_from_random_pairs((A, B), sample)
    assert u_a[1:4] == pytest.approx([20 / 995, 30 / 995, 945 / 995])
    assert u_b[1] == 0.5 and u_b[3] == pytest.approx(0.995)  # five sightings of 'same' are too few: the prior stays


@pytest.mark.parametrize(
    ("a", "b"), [("stephen", "steven"), ("smith", "smyth"), ("catherine", "kathryn"), ("philips", "phillips")]
)
def test_names_that_sound_alike_share_a_sound_key(a, b):
    assert sound_key(a) == sound_key(b)


def test_names_that_sound_different_do_not():
    assert sound_key("smith") != sound_key("jones")


@pytest.mark.parametrize(
    ("name", "usual"), [("bob", "robert"), ("kate", "catherine"), ("bill", "william"), ("zed", "zed")]
)
def test_nicknames_come_from_the_data_file(name, usual):
    assert usual_name(name) == usual


def pairs(*links: tuple[str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"contact_a": a, "contact_b": b, "kind": "likely", "score": s, "evidence": f"{a}~{b}"} for a, b, s in links]
    )


def test_a_chain_through_one_member_does_not_join_two_different_people():
    # A~B and B~C are strong; A and C were compared and are different people: B stays with its stronger link.
    chain = pairs(("A", "B", 0.97), ("B", "C", 0.93), ("D", "E", 0.99))
    conflicts = pl.DataFrame({"contact_a": ["A"], "contact_b": ["C"], "score": [0.0001], "evidence": ["different"]})
    members = group_members(chain, conflicts)
    groups = sorted(sorted(ids) for ids in members.group_by("group_id").agg("contact_id")["contact_id"].to_list())
    assert groups == [["A", "B"], ["D", "E"]]
    b = members.filter(pl.col("contact_id") == "B").row(0, named=True)
    assert (b["linked_to"], b["score"], b["evidence"]) == ("A", 0.97, "A~B")
    assert set(members["weakest_score"]) == {0.97, 0.99}


def test_without_a_conflict_the_chain_is_one_group_whose_weakest_link_is_reported():
    members = group_members(pairs(("A", "B", 0.97), ("B", "C", 0.93)))
    assert set(members["contact_id"]) == {"A", "B", "C"} and members["group_id"].n_unique() == 1
    assert set(members["weakest_score"]) == {0.93}
    assert dict(zip(members["contact_id"], members["linked_to"], strict=True)) == {"A": "B", "B": "A", "C": "B"}


def test_detection_on_the_independent_noisy_generator_keeps_an_f1_floor(tmp_path):
    from bench.accuracy import pairwise
    from bench.noisy import build
    from core.db import open_database
    from core.duplicates import duplicate_groups, find_duplicates

    path = tmp_path / "noisy.duckdb"
    build(3000, path, seed=11)
    con = open_database(path)
    run = find_duplicates(con, "admin")
    found = duplicate_groups(con).select("group_id", "contact_id")
    truth = (
        pl.read_parquet(path.with_suffix(".truth.parquet"))
        .join(con.sql("SELECT contact_id FROM contacts").pl(), on="contact_id")
        .select(pl.col("person_id").cast(pl.String).alias("group_id"), "contact_id")
    )
    con.close()
    result = pairwise(found, truth, run.seconds)
    assert run.rule_pairs["first and last name"] > 0 and run.weights
    assert result.f1 >= 0.7, result
