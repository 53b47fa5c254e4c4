"""Import benchmarks: a 1,000,000-row CSV into an empty database, the same file upserted with 30% of rows
changed, and a 200,000-row XLSX; each run in a fresh process so its peak memory is its own. The databases are
made in a folder of this run's own (IMPORT_BENCH_SCRATCH, else data/bench/import_scratch-PID), removed after."""

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from core.db.connection import Connection
    from core.importer import ImportPlan

from bench.common import BENCH_DIR, report

ROWS, XLSX_ROWS = 1_000_000, 200_000
TARGET_SECONDS = 30
FIRST = ["Ada", "Alan", "Grace", "María", "José", "Zoë", "Wei", "Aisha", "Olu", "Sven", "Priya", "Kenji"]
LAST = ["Lovelace", "Turing", "Hopper", "García", "Núñez", "Brontë", "Zhang", "Khan", "Adeyemi", "Berg"]
CITIES = ["London", "Madrid", "Lagos", "Osaka", "São Paulo", "Berlin", "Austin", "Pune"]


def realistic_frame(rows: int, changed_share: float = 0.0) -> pl.DataFrame:
    """Contacts as a CRM export has them: names, unique emails, formatted phones, companies, tags, a few bad rows."""
    index = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame({"i": index}).with_columns(
        pl.lit(FIRST).list.get(pl.col("i") % len(FIRST)).alias("First Name"),
        pl.lit(LAST).list.get((pl.col("i") // 7) % len(LAST)).alias("Last Name"),
        pl.format("person{}@example{}.com", pl.col("i"), pl.col("i") % 97).alias("Email Address"),
        # Nine in ten international with spaces (the vectorised path), one in ten US national formatting,
        # which the phone library parses once per distinct number (about 80 µs each).
        pl.when(pl.col("i") % 10 != 0)
        .then(
            pl.format(
                "+1 415 {} {}",
                (pl.col("i") // 10000 % 900 + 100),
                (pl.col("i") % 10000 + 10000).cast(pl.String).str.slice(1),
            )
        )
        .otherwise(
            pl.format(
                "(212) {}-{}",
                (pl.col("i") // 10000 % 900 + 100),
                (pl.col("i") % 10000 + 10000).cast(pl.String).str.slice(1),
            )
        )
        .alias("Phone Number"),
        pl.format("Company {}", pl.col("i") % 5000).alias("Company Name"),
        pl.lit(CITIES).list.get(pl.col("i") % len(CITIES)).alias("City"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("customer, newsletter")).otherwise(pl.lit("lead")).alias("Tags"),
    )
    # One row in 500 has a broken email: that value is warned and left out, the row (its phone) goes on.
    frame = frame.with_columns(
        pl.when(pl.col("i") % 500 == 499)
        .then(pl.lit("not-an-email"))
        .otherwise(pl.col("Email Address"))
        .alias("Email Address")
    )
    if changed_share:
        changed = (pl.col("i") * 7919 % 1000) < int(changed_share * 1000)
        frame = frame.with_columns(
            pl.when(changed)
            .then(pl.format("New Co {}", pl.col("i") % 300))
            .otherwise(pl.col("Company Name"))
            .alias("Company Name"),
            pl.when(changed).then(pl.lit("Lisbon")).otherwise(pl.col("City")).alias("City"),
        )
    return frame.drop("i")


def bench_file(name: str, rows: int, changed_share: float = 0.0) -> Path:
    """A generated file, built once and kept under data/bench/."""
    path = BENCH_DIR / name
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        data = realistic_frame(rows, changed_share)
        if name.endswith(".xlsx"):
            data.write_excel(path, autofit=False)
        else:
            data.write_csv(path)
    return path


def run_child(file: Path, database: Path | str) -> dict:
    """Import `file` into `database` in a fresh Python process; its time, peak memory and counts."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports", str(file), str(database)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def planned(con: "Connection", file: Path) -> "ImportPlan":
    """`file` read and planned as the import page does, with the columns mapped automatically."""
    from core.importer import ImportOptions, auto_map, plan_import, read_table

    table = read_table(file.name, file.read_bytes())
    return plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers)))


def child(file: Path, database: Path | str) -> None:
    """The child's work: read, plan and commit end to end, then report."""
    from core.accounts.users import bootstrap_admin
    from core.db import open_database
    from core.importer import commit_import

    con = open_database(database)
    bootstrap_admin(con)  # imports need an admin; made before the clock starts
    started = time.perf_counter()
    plan = planned(con, file)
    result = commit_import(con, plan, "admin")
    con.close()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "seconds": seconds,
            "cpu_seconds": cpu.ru_utime + cpu.ru_stime,
            "peak_mb": peak_mb,
            "warnings": plan.warnings.height,
            **result.model_dump(),
        },
        sys.stdout,
    )


def run() -> None:
    """Print each import figure beside its target."""
    print("Import (end to end: read, map, validate, match, write)")
    first = bench_file("import_1m.csv", ROWS)
    changed = bench_file("import_1m_changed.csv", ROWS, changed_share=0.3)
    workbook = bench_file("import_200k.xlsx", XLSX_ROWS)
    # Its own folder per run (several people may bench at once); the inputs above are only read.
    scratch = Path(os.environ.get("IMPORT_BENCH_SCRATCH") or BENCH_DIR / f"import_scratch-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    database = scratch / "imported.duckdb"
    for label, file in (
        ("1,000,000-row CSV into an empty database", first),
        ("same file upserted, 30% of rows changed", changed),
    ):
        result = run_child(file, database)
        report(label, result["seconds"], TARGET_SECONDS, "s")
        report("  peak memory", result["peak_mb"], None, "MB")
        report("  CPU time (all threads)", result["cpu_seconds"], None, "s")
        print(
            f"    created {result['created']:,} · updated {result['updated']:,} (values changed in "
            f"{result['changed']:,}) · rejected {result['rejected']:,} · values warned {result['warnings']:,}"
        )
    result = run_child(workbook, scratch / "xlsx.duckdb")
    report("200,000-row XLSX into an empty database", result["seconds"], 10, "s")
    report("  peak memory", result["peak_mb"], None, "MB")
    report("  CPU time (all threads)", result["cpu_seconds"], None, "s")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        child(Path(sys.argv[1]), sys.argv[2])  # a DuckDB file or a PostgreSQL URL (bench/postgres.py)
    else:
        run()
