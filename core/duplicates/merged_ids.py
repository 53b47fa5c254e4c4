"""Where merged contact IDs went: recorded by each merge, read by Web Chat and by links to a merged contact."""

import duckdb

from core.db import Scratch, rows


def record_merged(con: duckdb.DuckDBPyConnection, members: Scratch, at: object) -> None:
    """Remember each secondary of `members` (primary_id, contact_id, rank; rank 0 = primary) as merged into
    its primary, inside the merge's transaction. IDs merged earlier into a secondary follow it to the primary,
    so every lookup is one hop."""
    con.execute(
        f"UPDATE merged_ids SET contact_id = m.primary_id FROM {members} m "
        "WHERE merged_ids.contact_id = m.contact_id AND m.rank > 0"
    )
    con.execute(
        f"INSERT INTO merged_ids SELECT contact_id, primary_id, $at FROM {members} WHERE rank > 0 "
        "ON CONFLICT (merged_id) DO UPDATE SET contact_id = excluded.contact_id, merged_at = excluded.merged_at",
        {"at": at},
    )


def merged_into(con: duckdb.DuckDBPyConnection, contact_ids: list[str] | set[str]) -> dict[str, str]:
    """merged ID -> the existing contact it was merged into, for those of `contact_ids` that are no contact
    themselves (an ID in use again belongs to its own contact)."""
    if not contact_ids:
        return {}
    found = rows(
        con,
        "SELECT m.merged_id, m.contact_id FROM merged_ids m "
        "WHERE m.merged_id IN (SELECT unnest($ids)) AND m.contact_id IN (SELECT contact_id FROM contacts) "
        "AND NOT EXISTS (SELECT 1 FROM contacts x WHERE x.contact_id = m.merged_id)",
        {"ids": sorted(contact_ids)},
    )
    return dict(found)
