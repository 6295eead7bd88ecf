-- chain_changed exactly once (SPEC §6) and the current state of certs (SPEC
-- §5). The same step as the SQLite backend's 0005_events.sql.

-- notified is true once the daemon announced the event (its outbox row was
-- written in the same transaction), or decided not to (notify_changes =
-- false). Only chain_changed events are announced: they are stored false,
-- every other event true. Events recorded before this column existed count
-- as announced, so an upgrade does not announce history again.
ALTER TABLE events ADD COLUMN notified boolean NOT NULL DEFAULT true;

-- The events still to announce: few or none, looked up every round.
CREATE INDEX events_unnotified ON events (address_id) WHERE NOT notified;

-- last_round is the start of the latest round (one Record call) that saw
-- the span, in unix milliseconds: the earliest probe time among the round's
-- observations of the target. Every address probed in one round shares it,
-- which tells the addresses of a target's latest round from those that left
-- DNS, whatever the spread of the probe times. 0 for spans last seen before
-- this column existed.
ALTER TABLE spans ADD COLUMN last_round bigint NOT NULL DEFAULT 0;
