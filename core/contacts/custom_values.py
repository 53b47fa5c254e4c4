"""Where custom values live: one row per contact in `custom_values`, a text column per custom field (migration 017).

Each field's column is named by the field's key and holds its values as canonical text (core.contacts.rules);
NULL is no value, and a contact without any custom value may have no row at all. The row repeats the contact's
integer `row_key` (contacts.row_key, migration 016), so a filter joins it to contacts on an integer in one join for all
its custom conditions: at 1,000,000 contacts a saved segment with two custom conditions went from 113 to 33 ms
of CPU against the string-keyed row per value (see core.views.filters).

Field keys are checked against the key pattern before they are quoted into SQL; values are always parameters.
"""

import re
from collections.abc import Iterable, Mapping, Sequence

import duckdb

from core.db import Scratch, rows
from core.errors import ContactsError

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_KEYS = frozenset({"contact_id", "row_key"})  # the table's own columns


def value_column(key: str, table: str = "") -> str:
    """The quoted column holding a custom field's values (`table.` before it when given)."""
    if not KEY_PATTERN.match(key) or key in RESERVED_KEYS:
        raise ContactsError(f"'{key}' is not a valid custom field key.")
    return f'{table}."{key}"' if table else f'"{key}"'


def add_value_column(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Give a new custom field its column (inside the caller's transaction)."""
    con.execute(f"ALTER TABLE custom_values ADD COLUMN {value_column(key)} VARCHAR")


def drop_value_column(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Remove a deleted custom field's column and every value in it."""
    con.execute(f"ALTER TABLE custom_values DROP COLUMN {value_column(key)}")


def value_rows_sql(keys: Sequence[str], table: str = "custom_values") -> str:
    """SQL of one (contact_id, field_key, value) row per value held, for the fields `keys`, from `table` (rows
    shaped like custom_values); empty when there are no keys."""
    if not keys:
        return "SELECT NULL::VARCHAR AS contact_id, NULL::VARCHAR AS field_key, NULL::VARCHAR AS value WHERE FALSE"
    return " UNION ALL ".join(
        f"SELECT contact_id, '{key}' AS field_key, {value_column(key)} AS value FROM {table} "
        f"WHERE {value_column(key)} IS NOT NULL"
        for key in keys
    )


def write_values(con: duckdb.DuckDBPyConnection, contact_id: str, values: Mapping[str, str | None]) -> None:
    """Set one contact's values of these fields (None clears one); the contact must exist."""
    if not values:
        return
    columns = [value_column(key) for key in values]
    params = {f"v{index}": value for index, value in enumerate(values.values())} | {"id": contact_id}
    con.execute(
        f"INSERT INTO custom_values (contact_id, row_key, {', '.join(columns)}) "
        f"SELECT contact_id, row_key, {', '.join(f'$v{index}' for index in range(len(columns)))} "
        "FROM contacts WHERE contact_id = $id "
        f"ON CONFLICT (contact_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)}",
        params,
    )


def insert_values(con: duckdb.DuckDBPyConnection, values: Scratch, keys: Sequence[str]) -> None:
    """Add the rows of `values` (contact_id and a column per key in `keys`) for contacts that have no custom values
    row yet (new contacts); the contacts must exist."""
    if not keys:
        return
    given = [value_column(key, "v") for key in keys]
    con.execute(
        f"INSERT INTO custom_values (contact_id, row_key, {', '.join(value_column(key) for key in keys)}) "
        f"SELECT v.contact_id, c.row_key, {', '.join(given)} FROM {values} v JOIN contacts c USING (contact_id) "
        f"WHERE {' OR '.join(column + ' IS NOT NULL' for column in given)} ORDER BY c.row_key"
    )


def read_values(con: duckdb.DuckDBPyConnection, contact_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """The values held by these contacts, by contact and field key (contacts without any are left out)."""
    cursor = con.execute(
        "SELECT * FROM custom_values WHERE contact_id IN (SELECT unnest($ids))", {"ids": list(contact_ids)}
    )
    names = [column[0] for column in cursor.description or []]
    found: dict[str, dict[str, str]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        contact_id = record.pop("contact_id")
        del record["row_key"]
        found[contact_id] = {key: value for key, value in record.items() if value is not None}
    return found


def field_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every custom field's key (its column), in the fields' order."""
    return [key for (key,) in rows(con, "SELECT key FROM custom_fields ORDER BY position")]


def held_values_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of one (contact_id, field_key, value) row per value held, for every custom field (value_rows_sql)."""
    return value_rows_sql(field_keys(con))
