"""Weights learned from the database being deduplicated, as splink and fastLink learn them.

Each comparison level's weight is log2(m / u): u, how often two strangers reach the level, is counted on
random pairs of contacts; m, how often one person's two records reach it, is estimated by
expectation-maximisation over the candidate pairs the blocking rules found. Candidate pairs are first
counted by their pattern (the level each comparison reached), a few thousand rows at most, so each
iteration is a small numpy step. An exact match weighed by frequency keeps its term-frequency form,
log2(m * total / holders), with m learned. The fixed numbers in `core.duplicates.comparisons` are the
priors: they start EM, and a level the data cannot speak for keeps its prior weight.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.duplicates.comparisons import (
    NAMES_ALONE,
    NAMES_TOGETHER,
    BestReading,
    Comparison,
    FrequencyLevel,
    Level,
    Scored,
)

# Random pairs drawn for u; a level met fewer times among them keeps the u its prior weight implies.
MIN_U_COUNT = 5
# How many true pairs' worth the prior m weighs against the data.
PRIOR_PAIRS = 20.0
MAX_ITERATIONS, TOLERANCE = 100, 1e-5
MIN_LEVEL_MATCHES = 5.0


def learned_comparisons(parts: tuple[Scored, ...]) -> list[Comparison]:
    """Every comparison of the scoring parts, in a fixed order (readings' comparisons included)."""
    found: list[Comparison] = []
    for part in parts:
        if isinstance(part, Comparison):
            found.append(part)
        elif isinstance(part, BestReading):
            found.extend(c for reading in part.readings for c in reading.comparisons)
    return found


def level_index_sql(comparison: Comparison) -> str:
    """The index of the level that fires (len(levels) when none does) as SQL."""
    whens = " ".join(f"WHEN {level.condition} THEN {i}" for i, level in enumerate(comparison.levels))
    return f"CASE {whens} ELSE {len(comparison.levels)} END"


@dataclass
class Learned:
    """m and u per outcome of each comparison (levels, then 'none fired'), the match share among the
    candidates, and the EM iterations it took."""

    m: list[np.ndarray]
    u: list[np.ndarray]
    match_share: float
    iterations: int
    # Expected true pairs at each outcome: a level seen fewer than MIN_LEVEL_MATCHES times keeps its prior.
    seen: list[np.ndarray]


def spoken(comparison: Comparison) -> np.ndarray:
    """Which outcomes say something: not a silent level, and 'none fired' only for a reference comparison."""
    said = np.array([not level.silent for level in comparison.levels] + [comparison.reference])
    return said


def _normalised(values: np.ndarray, said: np.ndarray) -> np.ndarray:
    out = np.ones_like(values, dtype=float)
    total = values[said].sum()
    out[said] = values[said] / total if total > 0 else 1.0 / max(said.sum(), 1)
    return out


def estimate_u(
    comparisons: Sequence[Comparison], random_levels: np.ndarray, exact_u: Sequence[dict[int, float]]
) -> list[np.ndarray]:
    """u per outcome from the random pairs' level indexes (pairs x comparisons).

    A frequency level's u is given in `exact_u` (the chance two contacts hold the same value, from the value
    counts); a level met fewer than MIN_U_COUNT times among the random pairs counts as met that often (its u
    is small, not zero).
    """
    found = []
    for k, comparison in enumerate(comparisons):
        said = spoken(comparison)
        counts = np.bincount(random_levels[:, k], minlength=len(said)).astype(float)[: len(said)]
        u = _normalised(np.maximum(counts, MIN_U_COUNT), said)
        for i, value in exact_u[k].items():
            u[i] = max(value, 1e-12)
        found.append(u)
    return found


def prior_m(comparison: Comparison, u: np.ndarray) -> np.ndarray:
    """The m the fixed numbers imply: a frequency level's own m, a fixed level's u * 2^weight."""
    said = spoken(comparison)
    m = u.copy()  # 'none fired' weighs 0
    for i, level in enumerate(comparison.levels):
        if said[i]:
            m[i] = level.m if isinstance(level, FrequencyLevel) else u[i] * 2.0**level.weight
    return _normalised(m, said)


def outcome_weights(comparison: Comparison, m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log2(m / u) per outcome, silent ones 0; a reference comparison's relative to 'none fired'."""
    said = spoken(comparison)
    weights = np.where(said, np.log2(np.where(said, m, 1.0) / np.where(said, u, 1.0)), 0.0)
    if comparison.reference:
        weights = np.where(said, weights - weights[-1], 0.0)
    return weights


def fixed_weights(comparison: Comparison, u: np.ndarray) -> np.ndarray:
    """The weights of a comparison the data does not re-weigh."""
    weights = np.zeros(len(comparison.levels) + 1)
    for i, level in enumerate(comparison.levels):
        if not level.silent:
            weights[i] = math.log2(level.m / u[i]) if isinstance(level, FrequencyLevel) else level.weight
    return weights


def pattern_weights(
    parts: tuple[Scored, ...],
    comparisons: Sequence[Comparison],
    weights: Sequence[np.ndarray],
    levels: np.ndarray,
    used: Sequence[bool] | None = None,
) -> np.ndarray:
    """Each pattern's total weight as the scoring adds it: the best reading of the names (of the readings EM
    trains on), the rest summed; comparisons not `used` weigh nothing."""
    index = {id(c): k for k, c in enumerate(comparisons)}

    def of(comparison: Comparison) -> np.ndarray:
        k = index[id(comparison)]
        return weights[k][levels[:, k]] if used is None or used[k] else np.zeros(len(levels))

    total = np.zeros(len(levels))
    for part in parts:
        if isinstance(part, Comparison):
            total += of(part)
        elif isinstance(part, BestReading):
            readings = [
                sum((of(c) for c in r.comparisons), np.zeros(len(levels))) + r.weight
                for r in part.readings
                if r.trained
            ]
            total += np.max(readings, axis=0)
    return total


@dataclass
class Patterns:
    """Candidate pairs counted by pattern: `levels` (patterns x comparisons), `counts`, and `carried`, the
    weight each pattern carries in from elsewhere (identity fields)."""

    levels: np.ndarray
    counts: np.ndarray
    carried: np.ndarray


def expectation_maximisation(
    parts: tuple[Scored, ...],
    comparisons: Sequence[Comparison],
    patterns: Patterns,
    u: Sequence[np.ndarray],
    used: Sequence[bool] | None = None,
    match_share: float = 0.1,
) -> Learned:
    """m per level and the match share by EM over candidate patterns, u fixed.

    Comparisons not `used` (those a blocking rule makes agree by construction) neither weigh nor learn;
    comparisons not `learned` weigh with their fixed numbers. Each level's m starts from its prior, which
    also weighs in as PRIOR_PAIRS pairs' worth of evidence.
    """
    used = used if used is not None else [True] * len(comparisons)
    levels, counts = patterns.levels, patterns.counts
    said = [spoken(c) for c in comparisons]
    priors = [prior_m(c, u[k]) for k, c in enumerate(comparisons)]
    m = [p.copy() for p in priors]
    matched = np.zeros(len(counts))
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported)
        weights = [
            outcome_weights(c, m[k], u[k]) if c.learned else fixed_weights(c, u[k]) for k, c in enumerate(comparisons)
        ]
        log2_odds = pattern_weights(parts, comparisons, weights, levels, used) + patterns.carried
        log2_odds += math.log2(match_share / (1 - match_share))
        matched = counts * (log2_odds > 0)
        new_share = float(np.clip(matched.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        change = abs(new_share - match_share)
        for k, comparison in enumerate(comparisons):
            if comparison.learned and used[k]:
                # Which pairs are one person is judged without this comparison's own word: a level that
                # fires on many pairs with little else agreeing (namesakes in one town) cannot vouch for itself.
                own = weights[k][levels[:, k]]
                sums = np.bincount(levels[:, k], weights=counts * (log2_odds - own > 0), minlength=len(m[k]))[
                    : len(m[k])
                ]
                updated = _normalised(sums + PRIOR_PAIRS * priors[k], said[k])
                change = max(change, float(np.abs(updated - m[k]).max()))
                m[k] = updated
        match_share = new_share
        if change < TOLERANCE:
            break
    seen = [np.bincount(levels[:, k], weights=matched, minlength=len(m[k]))[: len(m[k])] for k in range(len(m))]
    return Learned(m, list(u), match_share, iterations, seen)


def combine(
    comparisons: Sequence[Comparison], fits: Sequence[tuple[Learned, Sequence[bool]]], u: list[np.ndarray]
) -> Learned:
    """One m per comparison from EM runs over several blocking rules' pairs, each run's m weighed by the true
    pairs it expects at each level, and only from the runs that left the comparison free."""
    m, seen = [], []
    for k, comparison in enumerate(comparisons):
        sums = np.zeros(len(comparison.levels) + 1)
        for fit, used in fits:
            if used[k]:
                sums += fit.seen[k]
        said = spoken(comparison)
        m.append(_normalised(sums + PRIOR_PAIRS * prior_m(comparison, u[k]), said))
        seen.append(sums)
    share = float(np.mean([fit.match_share for fit, _ in fits])) if fits else 0.0
    return Learned(m, u, share, max((fit.iterations for fit, _ in fits), default=0), seen)


def _relearned_comparison(comparison: Comparison, m: np.ndarray, u: np.ndarray, seen: np.ndarray) -> Comparison:
    if not comparison.learned or (comparison.reference and seen[-1] < MIN_LEVEL_MATCHES):
        return comparison
    return _with_m(comparison, m, u, seen)


def _with_m(comparison: Comparison, m: np.ndarray, u: np.ndarray, seen: np.ndarray) -> Comparison:
    weights = outcome_weights(comparison, m, u)
    levels: list[Level | FrequencyLevel] = []
    for i, level in enumerate(comparison.levels):
        if level.silent or seen[i] < MIN_LEVEL_MATCHES:
            levels.append(level)
        elif isinstance(level, FrequencyLevel):
            levels.append(replace(level, m=float(f"{m[i]:.4g}")))
        else:
            levels.append(replace(level, weight=round(float(weights[i]), 2)))
    return replace(comparison, levels=tuple(levels))


def relearned(parts: tuple[Scored, ...], comparisons: Sequence[Comparison], learned: Learned) -> tuple[Scored, ...]:
    """The scoring parts with learned m and u in place of the priors (readings' own weights kept)."""
    index = {id(c): k for k, c in enumerate(comparisons)}

    def swap(comparison: Comparison) -> Comparison:
        k = index[id(comparison)]
        return _relearned_comparison(comparison, learned.m[k], learned.u[k], learned.seen[k])

    out: list[Scored] = []
    for part in parts:
        if isinstance(part, Comparison):
            out.append(swap(part))
        elif isinstance(part, BestReading):
            out.append(
                BestReading(tuple(replace(r, comparisons=tuple(swap(c) for c in r.comparisons)) for r in part.readings))
            )
        else:
            out.append(part)
    return tuple(out)


def anchored(
    parts: tuple[Scored, ...],
    comparisons: Sequence[Comparison],
    anchors: Patterns,
    u: Sequence[np.ndarray],
    lift: float = 1.0,
) -> tuple[Scored, ...]:
    """The parts with each anchored comparison's m counted over `anchors`, pairs a shared mailbox or number
    links (one person's, whatever their other fields say): the share of them reaching each level, the prior
    weighing in as PRIOR_PAIRS pairs. A level reached by fewer than MIN_LEVEL_MATCHES of them keeps its prior.

    `lift` is how much likelier two different people who share a name share a place than two random people
    (names and places both follow where a family comes from): an agreeing place, weighed by how rare its
    value is, counts that much less, as its u among namesakes is that much higher."""
    found = {}
    for k, comparison in enumerate(comparisons):
        if comparison.anchored:
            said = spoken(comparison)
            seen = np.bincount(anchors.levels[:, k], weights=anchors.counts, minlength=len(said))[: len(said)]
            m = _normalised(seen + PRIOR_PAIRS * prior_m(comparison, u[k]), said)
            rare = np.array([isinstance(level, FrequencyLevel) for level in comparison.levels] + [False])
            found[id(comparison)] = _with_m(comparison, np.where(rare, m / max(lift, 1.0), m), u[k], seen)
    return tuple(found.get(id(part), part) if isinstance(part, Comparison) else part for part in parts)


def lifted(parts: tuple[Scored, ...], lift: float) -> tuple[Scored, ...]:
    """The parts with NAMES_TOGETHER and NAMES_ALONE weighing -log2(lift): a second agreeing name counts that
    much less, and names with nothing else agreeing that much less again."""
    weight = -round(math.log2(max(lift, 1.0)), 2)
    # Under a tenth of a bit it says nothing, and the evidence does not show it.
    level, alone = (
        Level(c.levels[0].label, c.levels[0].condition, weight, weight > -0.1) for c in (NAMES_TOGETHER, NAMES_ALONE)
    )
    return tuple(
        replace(part, levels=(level if part is NAMES_TOGETHER else alone,))
        if part is NAMES_TOGETHER or part is NAMES_ALONE
        else part
        for part in parts
    )
