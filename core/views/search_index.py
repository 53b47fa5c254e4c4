"""The search table: each contact's searchable text, precomputed on write (issue 17).

`contact_search` holds one row per contact: `text` (first name, last name, both joined by a space, email and
the additional emails and phones, lower-cased), `words` (the values of text, number and dropdown custom fields,
lower-cased, matched as whole words) and `phones` (the primary and additional phones, E.164). The values are
joined by the unit separator (chr(31)), which a search never holds (Python's split() treats it as a space), so
no match spans two values. A search reads this one narrow table instead of four contact columns, the custom
values and the additional channels (see core/views/search.py).

DuckDB has no triggers: every path that writes names, emails, phones, custom values or additional channels
calls `refresh_search` with the IDs it touched, inside its transaction. Deleting contacts needs nothing: the
table has a contact_id column, so records.delete_selected clears it with the other related tables.
Migration 014 fills the table with the same SELECT as `SEARCH_ROWS_SQL`.
"""

import duckdb

from core.db.scratch import Scratch

SEPARATOR = chr(31)

# The rows of contact_search for the contacts selected by {where} (a condition on contacts `c`).
SEARCH_ROWS_SQL = """
SELECT c.contact_id,
       lower(concat_ws(chr(31), c.first_name, c.last_name, concat_ws(' ', c.first_name, c.last_name), c.email,
                       ch.channel_values)) AS text,
       lower(cv.words) AS words,
       concat_ws(chr(31), c.phone, ch.channel_phones) AS phones
FROM contacts c
LEFT JOIN (SELECT contact_id, string_agg(value, chr(31)) AS channel_values,
                  string_agg(value, chr(31)) FILTER (WHERE kind = 'phone') AS channel_phones
           FROM contact_channels WHERE {channel_where} GROUP BY contact_id) ch USING (contact_id)
LEFT JOIN (SELECT v.contact_id, string_agg(v.value, chr(31)) AS words
           FROM custom_values v JOIN custom_fields f ON f.key = v.field_key
           WHERE f.type IN ('text', 'number', 'dropdown') AND {value_where} GROUP BY v.contact_id) cv USING (contact_id)
WHERE {where}
"""


def refresh_search(con: duckdb.DuckDBPyConnection, ids: Scratch | list[str]) -> None:
    """Rewrite the search rows of the contacts in `ids` (a scratch relation with a contact_id column, or a
    list of IDs), set-based: two statements whatever their number.

    Call it inside the transaction that changed them; an ID whose contact is gone leaves no row.
    """
    if isinstance(ids, Scratch):
        source, params = f"SELECT contact_id FROM {ids}", None
    else:
        source, params = "SELECT unnest($ids::VARCHAR[])", {"ids": ids}
    chosen = f"contact_id IN ({source})"
    con.execute(f"DELETE FROM contact_search WHERE {chosen}", params)
    con.execute(
        "INSERT INTO contact_search "
        + SEARCH_ROWS_SQL.format(where=f"c.{chosen}", channel_where=chosen, value_where=f"v.{chosen}"),
        params,
    )


def rebuild_search(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the whole table (tests compare it with what the refreshes left)."""
    con.execute("DELETE FROM contact_search")
    con.execute(
        "INSERT INTO contact_search " + SEARCH_ROWS_SQL.format(where="TRUE", channel_where="TRUE", value_where="TRUE")
    )
