-- A header value is stored cut to 8 KiB (SPEC §9): header_values.parsed is
-- then the cut text, marked "cut": true, and header_values.hash its hash, so
-- a value that changes only beyond the cut is stored once. The span keeps the
-- hash of the whole value (kind and the whole JSON, as header_values.hash is
-- for a value stored whole) to tell such values apart; it is NULL when the
-- value was stored whole. The same step as the SQLite backend's
-- 0006_headers.sql.
ALTER TABLE spans ADD COLUMN pkp_whole bytea;
ALTER TABLE spans ADD COLUMN pkp_ro_whole bytea;
ALTER TABLE spans ADD COLUMN hsts_whole bytea;
