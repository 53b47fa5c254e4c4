"""Shared benchmark plumbing: a cached million-contact database and timing with targets."""

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from core.db import open_database

BENCH_DIR = Path(__file__).resolve().parent.parent / "data" / "bench"


def demo_database(contacts: int, seed: int = 1) -> Path:
    """A demo database of this size, built once and kept (git-ignored) under data/bench/."""
    from core.demo.generator import generate_demo

    path = BENCH_DIR / f"demo_{contacts}.duckdb"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".building")
        partial.unlink(missing_ok=True)
        con = open_database(partial)
        started = time.perf_counter()
        summary = generate_demo(con, contacts=contacts, seed=seed)
        con.execute("CHECKPOINT")
        con.close()
        partial.rename(path)
        print(f"built {path.name}: {summary.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
    return path


def median_ms(action: Callable[[], object], runs: int = 7, warmup: int = 1) -> float:
    """Median wall time of `action` in milliseconds, after warm-up runs."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report(name: str, value: float, target: float | None, unit: str = "ms") -> None:
    """One line: the figure beside its target, and whether it meets it."""
    verdict = "" if target is None else ("ok" if value <= target else "OVER TARGET")
    target_text = "" if target is None else f"target < {target:,.0f} {unit}"
    print(f"  {name:<52} {value:>10,.1f} {unit:<3} {target_text:<20} {verdict}")
