"""Looking for duplicates: at once on a small database, as a background job (ui/jobs.py) on a large one."""

import duckdb

from core.duplicates import find_duplicates
from core.jobs import Progress
from ui.duplicates.cache import forget_groups
from ui.jobs import in_background, show_job, start

JOB_KIND = "duplicates"


def look_for_duplicates(con: duckdb.DuckDBPyConnection, me: str, contacts: int) -> bool:
    """Find duplicates over every contact as `me`: True if done now, False if a background job was started."""
    if not in_background(contacts):
        find_duplicates(con, me)
        forget_groups()
        return True

    looking = f"Looking for exact and likely pairs over {contacts:,} contacts…"

    def work(job_con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, int]:
        progress(0.05, looking)
        run = find_duplicates(job_con, me)  # checks, as `me`, that duplicates may be looked for
        return {"run_id": run.run_id, "exact_pairs": run.exact_pairs, "likely_pairs": run.likely_pairs}

    start(JOB_KIND, "duplicates.find", work, looking)
    return False


def detection_in_progress() -> bool:
    """Show a detection job running (or how the last one ended badly); True while one runs."""
    job = show_job(JOB_KIND, on_finish=lambda job: forget_groups())
    return job is not None and job.active
