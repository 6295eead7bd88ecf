-- A span's print is a 16-byte fingerprint of what it holds: every value an
-- observation must equal to extend it (storage/spanmemo.go). Record reads
-- the print of each address's latest span to find an observation
-- unchanged, instead of the span joined with its chains, header values and
-- TLSA RRset. Spans written before have none: such a span is read whole and
-- given its print when an observation next extends it.
ALTER TABLE spans ADD COLUMN print BLOB;
