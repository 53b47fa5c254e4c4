-- any_value(x): some non-NULL value of the group, NULL when all are (DuckDB's, and PostgreSQL 16's built-in; on 16
-- the built-in, in pg_catalog, is found first). The list page's cut (core/views/queries.py) reads it.
CREATE FUNCTION any_value_step(anyelement, anyelement) RETURNS anyelement
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT coalesce($1, $2)';
CREATE AGGREGATE any_value(anyelement) (SFUNC = any_value_step, STYPE = anyelement);
