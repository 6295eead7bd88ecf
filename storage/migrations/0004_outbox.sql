-- The outbox gets per-channel delivery and parking (SPEC §8): a
-- notification Slack refused for good (channel_not_found, invalid_auth, a
-- 4xx webhook answer, …) is kept with parked_at set, out of the queue, until
-- the daemon starts or reloads again. The table is rebuilt with
-- AUTOINCREMENT so that the ID of a delivered notification is never given
-- to a newer one: a late Delivered(id) can only remove the row it meant.
-- A next attempt further than 15 minutes away (an unbounded Retry-After
-- honoured by older versions) is brought back to 15 minutes from now.

ALTER TABLE outbox RENAME TO outbox_old;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at   INTEGER NOT NULL,
    channel      TEXT    NOT NULL,
    alert_id     INTEGER, -- the alert it is about, if any
    payload      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL,
    parked_at    INTEGER  -- NULL while deliverable; when Slack refused it for good
) STRICT;

INSERT INTO outbox (id, created_at, channel, alert_id, payload, attempts, next_attempt, last_error, parked_at)
SELECT id, created_at, channel, alert_id, payload, attempts,
       min(next_attempt, CAST(strftime('%s', 'now') AS INTEGER) + 900), last_error, NULL
FROM outbox_old;

DROP TABLE outbox_old;

-- Pending: the rows due for delivery.
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE parked_at IS NULL;
-- Prune and the alerts command: rows about an alert.
CREATE INDEX outbox_alert ON outbox (alert_id) WHERE alert_id IS NOT NULL;
