"""Exact pairs: contacts that share a mailbox (core.duplicates.keys) or an E.164 phone, primary or additional."""

import duckdb
import polars as pl

from core.db import frame
from core.duplicates.keys import install_macros
from core.duplicates.source import detection_store

# Exact blocks up to this size give every pair (so a "not a duplicate" mark removes just one link);
# bigger ones are joined as a star around their first contact.
FULL_EXACT_BLOCK = 30


# Pairs sharing a mailbox or a phone (its keys: core.duplicates.keys' macros).
EXACT_PAIRS_SQL = f"""
    WITH keyed AS (
        SELECT 'email' AS what, dup_email_key(email) AS k, contact_id AS id FROM contacts WHERE email IS NOT NULL
        UNION
        SELECT 'email', dup_email_key(value), contact_id FROM contact_channels WHERE kind = 'email'
        UNION
        SELECT 'phone', phone, contact_id FROM contacts WHERE phone IS NOT NULL
        UNION
        SELECT 'phone', value, contact_id FROM contact_channels WHERE kind = 'phone'
    ),
    repeated AS (SELECT what, k FROM keyed WHERE k IS NOT NULL GROUP BY what, k HAVING count(*) > 1),
    shared AS (
        SELECT what, k, id, count(*) OVER w AS n, min(id) OVER w AS first_id
        FROM keyed SEMI JOIN repeated USING (what, k) WINDOW w AS (PARTITION BY what, k)
    ),
    linked AS (
        SELECT a.what, a.id AS contact_a, b.id AS contact_b FROM shared a
        JOIN shared b ON a.what = b.what AND a.k = b.k AND a.id < b.id
        WHERE a.n <= {FULL_EXACT_BLOCK}
        UNION ALL
        SELECT what, first_id, id FROM shared WHERE n > {FULL_EXACT_BLOCK} AND id <> first_id
    )
    SELECT contact_a, contact_b, 'exact' AS kind, 1.0::DOUBLE AS score,
           string_agg('same ' || what, ', ' ORDER BY what) AS evidence
    FROM linked GROUP BY contact_a, contact_b
    """


def exact_pairs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Pairs sharing a mailbox or a phone: contact_a, contact_b, kind, score, evidence."""
    with detection_store(con) as work:
        install_macros(work)
        return frame(work, EXACT_PAIRS_SQL)
