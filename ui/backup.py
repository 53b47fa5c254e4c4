"""The Settings page's backup section: a consistent snapshot of the running database, and restoring one into a
new database file (the running app keeps its own file: restoring over it is `python -m core restore --replace`
with the app stopped)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import streamlit as st

from core.config import database_path
from core.db.backup import MANIFEST_FILE, POSTGRES_BACKUPS, backup, backups_supported, restore
from core.errors import ContactsError


def backups_folder() -> Path:
    """Where the app keeps its backups: beside the database, in `<database>.backups/`."""
    return Path(f"{database_path()}.backups")


def _known_backups() -> list[dict]:
    found = []
    for manifest in sorted(backups_folder().glob(f"*/{MANIFEST_FILE}"), reverse=True):
        try:
            found.append(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def backup_section(con: duckdb.DuckDBPyConnection) -> None:
    """Back up now, the backups kept, and restoring one into a new database file (admins: the caller checks)."""
    st.subheader("Backups")
    if not backups_supported(con):
        st.info(POSTGRES_BACKUPS, icon=":material/backup:")
        return
    st.caption(
        f"A backup is a consistent copy taken while the app keeps working, kept in `{backups_folder()}`. "
        "From a shell: `python -m core backup --url URL` (while the app runs), `--out DIR` (app stopped), and "
        "`python -m core restore --from DIR`."
    )
    if st.button("Back up now", icon=":material/backup:", key="backup-now"):
        folder = backups_folder() / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        try:
            info = backup(con, folder)
            st.success(f"Backed up {info.contacts:,} contacts ({info.bytes / 2**20:,.1f} MB) into {info.folder}.")
        except ContactsError as error:
            st.error(error.message)
    kept = _known_backups()
    if not kept:
        st.caption("No backups yet.")
        return
    st.dataframe(kept, hide_index=True, column_order=["taken_at", "contacts", "schema_version", "bytes", "folder"])
    chosen = st.selectbox("Backup to restore", [item["folder"] for item in kept], key="backup-chosen")
    target = st.text_input("Restore into a new database file", key="backup-target", placeholder="data/restored.duckdb")
    if st.button("Restore", disabled=not target.strip(), key="backup-restore"):
        if Path(target).resolve() == database_path().resolve():
            st.error("That is the running database: restore into a new file, then start the app on it.")
            return
        try:
            info = restore(chosen, target.strip())
            st.success(f"Restored {info.contacts:,} contacts into {target}. Start the app with CONTACTS_DB={target}.")
        except ContactsError as error:
            st.error(error.message)
