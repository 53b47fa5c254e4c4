-- DuckDB functions the feature SQL calls by name, defined on PostgreSQL with DuckDB's meaning, so the same
-- statement runs on both stores (docs/postgres.md). Differences that a function cannot hide (syntax such as
-- QUALIFY, GROUP BY ALL, SELECT * EXCLUDE, TRY_CAST) go through core.db.dialect instead.

-- list(x): the values of a group as an array, NULL for no rows (DuckDB's list aggregate).
CREATE AGGREGATE list(anycompatible) (SFUNC = array_append, STYPE = anycompatiblearray);

-- list_position(items, item): the 1-based position of item, NULL when absent.
CREATE FUNCTION list_position(anycompatiblearray, anycompatible) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT array_position($1, $2)';

-- list_contains(items, item): whether items holds item.
CREATE FUNCTION list_contains(anycompatiblearray, anycompatible) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $2 = ANY($1)';

-- len(items): how many items (0 for an empty list).
CREATE FUNCTION len(anyarray) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT cardinality($1)';

-- contains(text, part): a case-sensitive substring test without wildcards.
CREATE FUNCTION contains(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos($1, $2) > 0';

-- current_localtimestamp(): the local time without a time zone.
CREATE FUNCTION current_localtimestamp() RETURNS timestamp
    LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT LOCALTIMESTAMP';
