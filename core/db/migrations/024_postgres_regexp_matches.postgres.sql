-- regexp_matches(text, pattern [, flags]) as DuckDB means it: whether text matches the pattern anywhere (a
-- boolean), flags 'i' for case-insensitive. PostgreSQL's own regexp_matches returns the matches as a set of rows
-- (not allowed in WHERE): the sessions of core.db.postgres search `public` before `pg_catalog`, so these stand
-- in for it in the feature SQL (search's whole-word test of custom values, typo search's email patterns). The
-- patterns the code writes ([[:alnum:]], escaped punctuation, ^ and $) read the same in RE2 and PostgreSQL.
CREATE FUNCTION regexp_matches(text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $1 ~ $2';
CREATE FUNCTION regexp_matches(text, text, text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT CASE WHEN strpos($3, ''i'') > 0 THEN $1 ~* $2 ELSE $1 ~ $2 END';
