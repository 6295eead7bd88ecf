-- Several vantage points (SPEC §14): nodes probing from different places
-- share one database and keep apart what each one saw.

-- An address row is now one (target, address, vantage): spans and events
-- reference it, so they carry the vantage that probed, a span continues
-- per (target, address, vantage) and first_seen, probe_failed and recovered
-- are per (target, address, vantage). Rows recorded before vantage points
-- existed get ''; the first vantage to record such an address takes it
-- over with its history (Record), so an upgrade repeats no first_seen.
-- SQLite cannot drop the old UNIQUE (target, address), so the table is
-- rebuilt under its ids; the step runs with foreign keys off and checks
-- them before it commits (migrate).
CREATE TABLE addresses_new (
    id      INTEGER PRIMARY KEY,
    target  TEXT    NOT NULL,
    address TEXT    NOT NULL,
    vantage TEXT    NOT NULL DEFAULT '',
    UNIQUE (target, address, vantage)
) STRICT;

INSERT INTO addresses_new (id, target, address, vantage)
SELECT id, target, address, '' FROM addresses;

DROP TABLE addresses;

ALTER TABLE addresses_new RENAME TO addresses;

-- The nodes sharing the database, one row per vantage: each running daemon
-- heartbeats its row at start-up, at least every 10 s and after each round,
-- and the others raise vantage_silent for a row that goes quiet. Times are
-- UTC unix seconds.
CREATE TABLE nodes (
    vantage    TEXT    NOT NULL PRIMARY KEY,
    host       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
