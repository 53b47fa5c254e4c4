"""Learning m and u from the database being deduplicated, as splink and fastLink do.

- u (how often two strangers reach a level) from random pairs of contacts; for an exact match on a value,
  exactly from the value counts (the chance that two contacts hold the same value).
- m (how often one person's two records reach it) by expectation-maximisation over the blocked candidate
  pairs, u held fixed. Candidate pairs are first grouped by their tuple of level indexes (a few thousand
  patterns at most), so each iteration runs on that small table in numpy: fast and exact. Pairs found by a
  blocking rule agree on that rule's fields by construction, so EM runs once per rule, leaving those fields
  out, and each field's m is the average over the rules that could see it (weighed by their expected true
  pairs), as splink trains one blocking rule at a time.

The comparisons' own m and u are priors: a level the data cannot speak for keeps its prior.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.duplicates.blocking import Rule
from core.duplicates.comparisons import Comparison

# A level seen fewer times than this among the random pairs keeps its prior u.
MIN_U_COUNT = 10
# How many true pairs' worth of weight the prior m carries against the data.
M_PRIOR_PAIRS = 10.0
# A rule whose candidates are fewer than this is too small to learn from.
MIN_RULE_PAIRS = 50
MAX_ITERATIONS, TOLERANCE = 200, 1e-6


@dataclass
class Fit:
    """What EM found on one set of patterns: m per comparison (indexed by level), the match share, the
    expected number of true pairs, and how many iterations it took."""

    m: list[np.ndarray]
    match_share: float
    expected_matches: float
    iterations: int


def prior_m(comparison: Comparison) -> np.ndarray:
    """The comparison's prior m per level index (silent indexes 1)."""
    return _per_index(comparison, [level.m for level in comparison.levels])


def prior_u(comparison: Comparison) -> np.ndarray:
    """The comparison's prior u per level index (silent indexes 1)."""
    return _per_index(comparison, [level.u for level in comparison.levels])


def _per_index(comparison: Comparison, values: list[float]) -> np.ndarray:
    found = np.array([*values, 1.0], dtype=float)
    found[comparison.silent_indexes()] = 1.0
    return found


def _normalised(m: np.ndarray, silent: list[int]) -> np.ndarray:
    spoken = np.ones(len(m), dtype=bool)
    spoken[silent] = False
    out = m.copy()
    out[spoken] = m[spoken] / m[spoken].sum()
    out[~spoken] = 1.0
    return out


def expectation_maximisation(
    comparisons: Sequence[Comparison],
    levels: np.ndarray,
    counts: np.ndarray,
    u: Sequence[np.ndarray],
    trained: Sequence[bool],
    used: Sequence[bool] | None = None,
    match_share: float = 0.1,
) -> Fit:
    """EM for m and the match share over level patterns (`levels`: patterns x comparisons, `counts` each).

    u stays fixed. Comparisons not `trained` keep their prior m but still weigh in the E step; those not
    `used` (a blocking rule's own fields) are left out of it altogether.
    """
    used = used if used is not None else [True] * len(comparisons)
    m = [_normalised(prior_m(c), c.silent_indexes()) if c.learned else prior_m(c) for c in comparisons]
    silent = [c.silent_indexes() for c in comparisons]
    total = counts.sum()
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported in the fit)
        log_ratio = np.zeros(len(counts))
        for k in range(len(comparisons)):
            if not used[k]:
                continue
            log_ratio += np.log(m[k][levels[:, k]]) - np.log(u[k][levels[:, k]])
        odds = match_share / (1 - match_share) * np.exp(np.clip(log_ratio, -700, 700))
        p = odds / (1 + odds)
        weights = p * counts
        expected = weights.sum()
        new_share = float(np.clip(expected / total, 1e-9, 1 - 1e-9))
        change = abs(new_share - match_share)
        for k, comparison in enumerate(comparisons):
            if not trained[k]:
                continue
            sums = np.bincount(levels[:, k], weights=weights, minlength=len(m[k]))
            prior = _normalised(prior_m(comparison), silent[k])
            updated = _normalised(sums + M_PRIOR_PAIRS * prior, silent[k])
            change = max(change, float(np.abs(updated - m[k]).max()))
            m[k] = updated
        match_share = new_share
        if change < TOLERANCE:
            break
    return Fit(m, match_share, float(expected), iterations)


def u_from_random_pairs(comparisons: Sequence[Comparison], sample: pl.DataFrame) -> list[np.ndarray]:
    """u per level index from random pairs (`sample`: one row per pair, a column per comparison's index).

    Shares are among the pairs where the comparison speaks (neither side blank), as m's are; a level seen
    fewer than MIN_U_COUNT times keeps its prior.
    """
    found = []
    for comparison in comparisons:
        u = prior_u(comparison)
        if not comparison.learned:
            found.append(u)
            continue
        silent = comparison.silent_indexes()
        counts = (
            np.bincount(sample[comparison.column].to_numpy(), minlength=len(u)) if sample.height else np.zeros(len(u))
        )
        counts[silent] = 0
        spoken = counts.sum()
        for i in range(len(comparison.levels)):
            if i not in silent and counts[i] >= MIN_U_COUNT and spoken:
                u[i] = counts[i] / spoken
        found.append(u)
    return found


def learn_m(
    comparisons: Sequence[Comparison],
    patterns: pl.DataFrame,
    u: Sequence[np.ndarray],
    rules: Sequence[Rule],
) -> tuple[list[np.ndarray], dict[str, Fit]]:
    """m per comparison by EM, once per blocking rule on the patterns it found (`patterns`: rules, a column
    per comparison, n), each run leaving out the fields its rule blocks on; averaged over the runs."""
    columns = [c.column for c in comparisons]
    sums = [np.zeros(len(c.levels) + 1) for c in comparisons]
    seen = np.zeros(len(comparisons))
    fits: dict[str, Fit] = {}
    for bit, rule in enumerate(rules):
        found = patterns.filter((pl.col("rules") // (1 << bit)) % 2 == 1)
        if found["n"].sum() < MIN_RULE_PAIRS:
            continue
        # A field the rule blocks on agrees by construction here: it is left out, neither weighing nor learned.
        used = [c.column not in rule.fields for c in comparisons]
        trained = [c.learned and used[k] for k, c in enumerate(comparisons)]
        fit = expectation_maximisation(
            comparisons,
            found.select(columns).to_numpy().astype(np.int64),
            found["n"].to_numpy().astype(float),
            u,
            trained,
            used,
        )
        fits[rule.label] = fit
        for k in range(len(comparisons)):
            if trained[k]:
                sums[k] += fit.m[k] * fit.expected_matches
                seen[k] += fit.expected_matches
    m = []
    for k, comparison in enumerate(comparisons):
        prior = _normalised(prior_m(comparison), comparison.silent_indexes())
        m.append(
            _normalised((sums[k] + M_PRIOR_PAIRS * prior) / (seen[k] + M_PRIOR_PAIRS), comparison.silent_indexes())
        )
    return m, fits


def learned_comparisons(
    comparisons: Sequence[Comparison], m: Sequence[np.ndarray], u: Sequence[np.ndarray]
) -> tuple[Comparison, ...]:
    """The comparisons with learned m and u in place of their priors (unlearned ones kept as they are)."""
    return tuple(
        c.with_probabilities(m[k].tolist(), u[k].tolist()) if c.learned else c for k, c in enumerate(comparisons)
    )
