-- DANE (SPEC §12): a target's TLSA RRset is recorded like a header value:
-- stored once by content (the JSON of the RRset, cut to 8 KiB and marked
-- cut when longer; hash is the SHA-256 of 'tlsa', a NUL and that JSON),
-- referenced by the span (tlsa_id), which keeps the hash of the whole RRset
-- when the stored text is cut (tlsa_whole) so that a change beyond the cut
-- is still a change. A change of the RRset at an address is a
-- 'tlsa_changed' event with the records before and after.

CREATE TABLE tlsa_values (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    hash   BLOB    NOT NULL UNIQUE,
    parsed TEXT    NOT NULL -- JSON of pinwatchd.TLSAResult without the per-chain fields
) STRICT;

ALTER TABLE spans ADD COLUMN tlsa_id INTEGER REFERENCES tlsa_values (id);
ALTER TABLE spans ADD COLUMN tlsa_whole BLOB; -- NULL unless the stored RRset is cut

CREATE INDEX spans_tlsa ON spans (tlsa_id) WHERE tlsa_id IS NOT NULL;

-- The events table is rebuilt to widen its CHECK, keeping every column and
-- index of 0001 and 0005; nothing references it.
ALTER TABLE events RENAME TO events_old;

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    time            INTEGER NOT NULL,
    address_id      INTEGER NOT NULL REFERENCES addresses (id),
    event           TEXT    NOT NULL
        CHECK (event IN ('first_seen', 'chain_changed', 'probe_failed', 'recovered', 'tlsa_changed')),
    class           TEXT    NOT NULL, -- chain_changed only, else empty
    old_leaf_pin    TEXT    NOT NULL,
    new_leaf_pin    TEXT    NOT NULL,
    old_leaf_sha256 TEXT    NOT NULL,
    new_leaf_sha256 TEXT    NOT NULL,
    issuer          TEXT    NOT NULL,
    not_after       INTEGER, -- NULL when the event has no leaf
    error_kind      TEXT    NOT NULL,
    error_message   TEXT    NOT NULL,
    notified        INTEGER NOT NULL DEFAULT 1 CHECK (notified IN (0, 1)),
    old_tlsa        TEXT    NOT NULL DEFAULT '', -- tlsa_changed only: the records before, one per line
    new_tlsa        TEXT    NOT NULL DEFAULT ''  -- and after
) STRICT;

INSERT INTO events (id, time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256,
                    new_leaf_sha256, issuer, not_after, error_kind, error_message, notified)
SELECT id, time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256,
       new_leaf_sha256, issuer, not_after, error_kind, error_message, notified
FROM events_old;

DROP TABLE events_old;

CREATE INDEX events_time ON events (time);
CREATE INDEX events_address_time ON events (address_id, time);
CREATE INDEX events_unnotified ON events (address_id) WHERE notified = 0;
