"""Backups: a consistent copy of a live database, and bringing one back after checking it.

A copy of the database file while it is being written is not a backup (the file and its write-ahead log
change under the copy). `backup` copies through DuckDB instead: `COPY FROM DATABASE` reads one transaction's
snapshot of every table, sequence and index into a new database file, while the app keeps writing. It runs
on the connection of the process that holds the database (the app's, or the command line's when the app is
not running). `restore` checks that a backup opens and that its schema is one this code knows, then puts it
in place: at a new path, or over an existing database only when asked to replace it.

This is the DuckDB file's backup. On PostgreSQL (CONTACTS_DB a postgresql:// URL) backups are the server's job:
`pg_dump` (or the managed service's snapshots) copies a consistent snapshot while the app keeps working, and
`pg_restore` brings it back; `backup` and `restore` refuse with `POSTGRES_BACKUPS`, which the Settings page shows.
"""

import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel

from core.db.connection import is_postgres_url, migration_files, open_database
from core.db.dialect import dialect
from core.errors import ContactsError

BACKUP_FILE = "contacts.duckdb"
MANIFEST_FILE = "manifest.json"
POSTGRES_BACKUPS = (
    "This workspace is on PostgreSQL: backups are pg_dump's job, not the app's. Take one with "
    "`pg_dump --format=custom --file=contacts.dump URL` (a consistent snapshot while the app keeps working) or the "
    "managed service's snapshots, and bring one back with `pg_restore --dbname=URL contacts.dump` into an empty "
    "database. A DuckDB workspace moves to PostgreSQL with `python -m core migrate-store --from FILE --to URL`."
)


def backups_supported(con: object) -> bool:
    """Whether the app takes this database's backups itself (a DuckDB file; PostgreSQL's are pg_dump's)."""
    return dialect(con).name == "duckdb"


class BackupInfo(BaseModel):
    """What a backup holds: where it is, when it was taken, its schema version and its row counts."""

    folder: str
    taken_at: str
    schema_version: int
    contacts: int
    bytes: int


def _schema_version(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> int:
    table = f"{catalog}.schema_migrations" if catalog else "schema_migrations"
    return con.execute(f"SELECT coalesce(max(version), 0) FROM {table}").fetchall()[0][0]


def backup(con: duckdb.DuckDBPyConnection, folder: str | Path) -> BackupInfo:
    """Write a consistent snapshot of the database `con` is open on into `folder` (new or empty); on PostgreSQL,
    ContactsError(POSTGRES_BACKUPS)."""
    if not backups_supported(con):
        raise ContactsError(POSTGRES_BACKUPS)
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise ContactsError(f"{target} is not empty; back up into a new folder.")
    target.mkdir(parents=True, exist_ok=True)
    alias = f"backup_{uuid.uuid4().hex[:8]}"
    cursor = con.cursor()  # a cursor of its own: ATTACH and COPY run outside any transaction the caller has open
    try:
        source = cursor.execute("SELECT current_database()").fetchall()[0][0]
        cursor.execute(f"ATTACH ? AS {alias}", [str(target / BACKUP_FILE)])
        try:
            cursor.execute(f"COPY FROM DATABASE {source} TO {alias}")  # one snapshot of every table
            version = _schema_version(cursor, alias)
            contacts = cursor.execute(f"SELECT count(*) FROM {alias}.contacts").fetchall()[0][0]
        finally:
            cursor.execute(f"DETACH {alias}")
    finally:
        cursor.close()
    info = BackupInfo(
        folder=str(target),
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        schema_version=version,
        contacts=contacts,
        bytes=(target / BACKUP_FILE).stat().st_size,
    )
    (target / MANIFEST_FILE).write_text(info.model_dump_json(indent=2), encoding="utf-8")
    return info


def check_backup(folder: str | Path) -> BackupInfo:
    """The backup in `folder`, once it opens, its schema is one this code knows and its contacts are all there."""
    source = Path(folder)
    file = source / BACKUP_FILE
    if not file.is_file():
        raise ContactsError(f"There is no backup in {source} (no {BACKUP_FILE}).")
    try:
        manifest = BackupInfo.model_validate(json.loads((source / MANIFEST_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ContactsError(f"The backup in {source} has no readable {MANIFEST_FILE}: {error}") from None
    try:
        con = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as error:
        raise ContactsError(f"The backup in {source} does not open: {str(error).splitlines()[0]}") from None
    try:
        version = _schema_version(con)
        contacts = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        raise ContactsError(f"The backup in {source} is not a contacts database: {reason}") from None
    finally:
        con.close()
    newest = max(number for number, _, _ in migration_files())
    if version > newest:
        raise ContactsError(f"The backup's schema ({version}) is newer than this code's ({newest}); update first.")
    if (version, contacts) != (manifest.schema_version, manifest.contacts):
        raise ContactsError(f"The backup in {source} does not match its manifest; it may be damaged.")
    return manifest


def restore(folder: str | Path, path: str | Path, replace: bool = False) -> BackupInfo:
    """Bring the backup in `folder` back as the database at `path` (over an existing one only with `replace`),
    then bring its schema up to date."""
    if is_postgres_url(path):
        raise ContactsError(POSTGRES_BACKUPS)
    info = check_backup(folder)
    target = Path(path)
    if target.exists() and not replace:
        raise ContactsError(f"There is already a database at {target}; restore to a new path, or say --replace.")
    if target.exists():
        open_database(target).close()  # refuses (DatabaseLockedError) while another process has it open
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.restoring-{uuid.uuid4().hex[:8]}")
    shutil.copyfile(Path(folder) / BACKUP_FILE, staging)
    wal = Path(f"{target}.wal")
    if wal.exists():  # the old database's log must not be replayed onto the restored one
        wal.unlink()
    os.replace(staging, target)  # atomic: the path holds the old database or the restored one, never half
    open_database(target).close()  # applies any migration newer than the backup
    return info
