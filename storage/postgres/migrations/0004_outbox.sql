-- The outbox gets per-channel delivery and parking (SPEC §8): a
-- notification Slack refused for good (channel_not_found, invalid_auth, a
-- 4xx webhook answer, …) is kept with parked_at set, out of the queue, until
-- the daemon starts or reloads again. A next attempt further than 15
-- minutes away is brought back to 15 minutes from now. The same step as the
-- SQLite backend's 0004_outbox.sql (which rebuilt the table to stop the
-- reuse of IDs; an identity never reused them).

ALTER TABLE outbox ADD COLUMN parked_at bigint; -- NULL while deliverable; when Slack refused it for good

UPDATE outbox SET next_attempt = least(next_attempt, extract(epoch FROM now())::bigint + 900);

-- Pending: the rows due for delivery.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE parked_at IS NULL;
-- Prune and the alerts command: rows about an alert.
CREATE INDEX outbox_alert ON outbox (alert_id) WHERE alert_id IS NOT NULL;
