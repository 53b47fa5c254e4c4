-- strftime(ts, format): DuckDB's, for the specifiers the code writes (%Y %m %d %H %M %S %f; %% a percent sign),
-- through to_char with everything else quoted as literal text ('T' or 'TH' would be to_char patterns). The
-- timeline's "last 2024-05-01 10:30" and the channel message keys' '%Y-%m-%dT%H:%M:%S.%f'.
CREATE FUNCTION strftime(timestamp, text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $strftime$
    SELECT to_char($1, '"' || replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace($2, '"', '\"'), '%%', chr(1)),
        '%Y', '"YYYY"'), '%m', '"MM"'), '%d', '"DD"'), '%H', '"HH24"'), '%M', '"MI"'), '%S', '"SS"'), '%f', '"US"'),
        chr(1), '%') || '"')
$strftime$;

-- a // b: DuckDB's integer division (the timeline's size in KB); PostgreSQL's / of two integers truncates alike.
CREATE FUNCTION integer_divide(bigint, bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $1 / $2';
CREATE OPERATOR // (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = integer_divide);
