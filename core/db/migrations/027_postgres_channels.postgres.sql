-- UHUGEINT: DuckDB's unsigned 128-bit integer, the type of messages.message_key; numeric(39, 0) here (the
-- column's own type), so CAST(key AS UHUGEINT) means the same on both stores.
CREATE DOMAIN uhugeint AS numeric(39, 0) CHECK (VALUE >= 0 AND VALUE < 340282366920938463463374607431768211456);

-- md5_number(text): DuckDB's, bit for bit: the 16 bytes of the MD5 of the text's UTF-8 read as one unsigned
-- little-endian 128-bit integer. (The channels compute their message keys in Python; the demo and tests call this.)
CREATE FUNCTION md5_number(text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $md5_number$
    SELECT sum(get_byte(d, i)::numeric * (256::numeric ^ i))::numeric(39, 0)
    FROM (SELECT decode(md5($1), 'hex') AS d) AS digest, generate_series(0, 15) AS i
$md5_number$;
