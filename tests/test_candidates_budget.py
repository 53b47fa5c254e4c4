"""All blocking rules together propose at most core.duplicates.likely.candidates_budget pairs: past it, every rule
gets one smaller budget, so the rules with few pairs keep them all and the busiest lose their biggest blocks."""

import polars as pl

from core.duplicates import likely
from core.duplicates.blocking import BlockingRule, bounded
from core.duplicates.likely import candidates_budget, shared_budget


def _sizes(*blocks: tuple[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"n": [n for n, _ in blocks], "blocks": [count for _, count in blocks]})


FEW, BUSY = BlockingRule("fn", "few"), BlockingRule("ln", "busy")
SIZES = [(FEW, _sizes((2, 10))), (BUSY, _sizes((2, 5), (10, 1)))]  # 10 pairs; 5 pairs and a block of 45


def test_rules_within_the_total_keep_their_own_budget() -> None:
    assert shared_budget(SIZES, budget=100, total=60) == 100


def test_past_the_total_the_busiest_rule_loses_its_biggest_block() -> None:
    shared = shared_budget(SIZES, budget=100, total=20)
    few, busy = (bounded(rule, blocks, shared) for rule, blocks in SIZES)
    assert few.pairs == 10 and few.left_out == 0
    assert busy.pairs == 5 and busy.left_out == 45 and busy.largest_block == 2
    assert few.pairs + busy.pairs <= 20


def test_a_total_below_every_rules_smallest_blocks_leaves_nothing() -> None:
    shared = shared_budget(SIZES, budget=100, total=3)
    assert sum(bounded(rule, blocks, shared).pairs for rule, blocks in SIZES) <= 3


def test_the_budget_grows_with_the_contacts(monkeypatch) -> None:
    monkeypatch.setattr(likely, "MIN_CANDIDATES_BUDGET", 100)
    assert candidates_budget(5) == 100
    assert candidates_budget(1_000_000) == likely.CANDIDATES_PER_CONTACT * 1_000_000
