-- Alert state (SPEC §6) and the durable notification outbox (SPEC §8).

-- An alert is identified by (target, kind, subject); at most one of each is
-- open at a time. addresses is a JSON array of the affected addresses.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    target           TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    severity         TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    addresses        TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
    message          TEXT    NOT NULL,
    resolve_reason   TEXT    NOT NULL,
    opened_at        INTEGER NOT NULL,
    resolved_at      INTEGER, -- NULL while open
    last_notified_at INTEGER, -- NULL if never announced
    channel          TEXT    NOT NULL, -- Slack channel of the opening message (bot token)
    thread_ts        TEXT    NOT NULL  -- its ts, for threading reminders and the resolve
) STRICT;

CREATE UNIQUE INDEX alerts_open_key ON alerts (target, kind, subject) WHERE state = 'open';
CREATE INDEX alerts_opened ON alerts (opened_at);
CREATE INDEX alerts_resolved ON alerts (resolved_at) WHERE state = 'resolved';

-- Notifications waiting for delivery, written in the same transaction as the
-- alert change that causes them and deleted once Slack accepted them.
-- payload is the JSON of pinwatchd.Notification.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    channel      TEXT    NOT NULL,
    alert_id     INTEGER, -- the alert it is about, if any
    payload      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt, id);
