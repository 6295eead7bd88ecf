-- DANE (SPEC §12): a target's TLSA RRset is recorded like a header value:
-- stored once by content (the JSON of the RRset, cut to 8 KiB and marked
-- cut when longer; hash is the SHA-256 of 'tlsa', a NUL and that JSON),
-- referenced by the span (tlsa_id), which keeps the hash of the whole RRset
-- when the stored text is cut (tlsa_whole) so that a change beyond the cut
-- is still a change. A change of the RRset at an address is a
-- 'tlsa_changed' event with the records before and after. The same step as
-- the SQLite backend's 0007_tlsa.sql.

CREATE TABLE tlsa_values (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash   bytea  NOT NULL UNIQUE,
    parsed text   NOT NULL -- JSON of pinwatchd.TLSAResult without the per-chain fields
);

ALTER TABLE spans ADD COLUMN tlsa_id bigint REFERENCES tlsa_values (id);
ALTER TABLE spans ADD COLUMN tlsa_whole bytea; -- NULL unless the stored RRset is cut

CREATE INDEX spans_tlsa ON spans (tlsa_id) WHERE tlsa_id IS NOT NULL;

-- PostgreSQL widens the CHECK in place; SQLite rebuilds the table.
ALTER TABLE events DROP CONSTRAINT events_event_check;
ALTER TABLE events ADD CONSTRAINT events_event_check
    CHECK (event IN ('first_seen', 'chain_changed', 'probe_failed', 'recovered', 'tlsa_changed'));
ALTER TABLE events ADD COLUMN old_tlsa text NOT NULL DEFAULT ''; -- tlsa_changed only: the records before, one per line
ALTER TABLE events ADD COLUMN new_tlsa text NOT NULL DEFAULT ''; -- and after
