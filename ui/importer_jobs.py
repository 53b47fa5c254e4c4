"""A large import's commit as a background job (ui/jobs.py): one at a time in the workspace, as the admin who
started it, with the commit's own progress reports."""

import duckdb

from core.errors import ContactsError
from core.importer import ImportPlan, commit_import
from core.jobs import Job, Progress
from ui.jobs import show_job, start

IMPORT_JOB = "import"


def start_import_job(plan: ImportPlan, actor: str) -> None:
    """Commit the dry run's plan in the background as `actor` (commit_import checks them as usual)."""

    def work(job_con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, object]:
        try:
            return commit_import(job_con, plan, actor, progress=progress).model_dump()
        except duckdb.TransactionException as conflict:
            raise ContactsError(
                "Someone changed the same contacts meanwhile; nothing was imported. Run the dry run again."
            ) from conflict

    start(IMPORT_JOB, "import", work)


def import_job_message(job: Job) -> str:
    """'Imported: 120,000 created · 3 updated · 0 skipped · 2 rejected'."""
    done = job.result or {}
    return (
        f"Imported in the background: {done.get('created', 0):,} created · {done.get('updated', 0):,} updated · "
        f"{done.get('skipped', 0):,} skipped · {done.get('rejected', 0):,} rejected"
    )


def import_in_progress() -> bool:
    """Show the latest import job (progress, outcome, or why it stopped); True while one runs."""
    job = show_job(IMPORT_JOB, done_message=import_job_message)
    return job is not None and job.active
