-- Several vantage points (SPEC §14): nodes probing from different places
-- share one database and keep apart what each one saw. The same step as
-- the SQLite backend's 0008_vantage.sql.

-- An address row is now one (target, address, vantage): spans and events
-- reference it, so they carry the vantage that probed, a span continues
-- per (target, address, vantage) and first_seen, probe_failed and recovered
-- are per (target, address, vantage). Rows recorded before vantage points
-- existed get ''; the first vantage to record such an address takes it
-- over with its history (Record), so an upgrade repeats no first_seen.
-- PostgreSQL swaps the unique constraint in place; SQLite rebuilds the
-- table.
ALTER TABLE addresses ADD COLUMN vantage text NOT NULL DEFAULT '';
ALTER TABLE addresses DROP CONSTRAINT addresses_target_address_key;
ALTER TABLE addresses ADD CONSTRAINT addresses_target_address_vantage_key UNIQUE (target, address, vantage);

-- The nodes sharing the database, one row per vantage: each running daemon
-- heartbeats its row at start-up, at least every 10 s and after each round,
-- and the others raise vantage_silent for a row that goes quiet. Times are
-- UTC unix seconds.
CREATE TABLE nodes (
    vantage    text   PRIMARY KEY,
    host       text   NOT NULL,
    version    text   NOT NULL,
    started_at bigint NOT NULL,
    last_seen  bigint NOT NULL
);
