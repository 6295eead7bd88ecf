-- Mirrors the SQLite backend's migration 0011, so both schemas keep one
-- numbering. This backend reads a round's latest spans whole in one query
-- and leaves the column NULL.
ALTER TABLE spans ADD COLUMN print BYTEA;
