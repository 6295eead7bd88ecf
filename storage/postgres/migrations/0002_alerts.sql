-- Alert state (SPEC §6) and the durable notification outbox (SPEC §8). The
-- same step as the SQLite backend's 0002_alerts.sql.

-- An alert is identified by (target, kind, subject); at most one of each is
-- open at a time. addresses is a JSON array of the affected addresses.
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target           text   NOT NULL,
    kind             text   NOT NULL,
    subject          text   NOT NULL,
    severity         text   NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    addresses        text   NOT NULL,
    state            text   NOT NULL CHECK (state IN ('open', 'resolved')),
    message          text   NOT NULL,
    resolve_reason   text   NOT NULL,
    opened_at        bigint NOT NULL,
    resolved_at      bigint, -- NULL while open
    last_notified_at bigint, -- NULL if never announced
    channel          text   NOT NULL, -- Slack channel of the opening message (bot token)
    thread_ts        text   NOT NULL  -- its ts, for threading reminders and the resolve
);

CREATE UNIQUE INDEX alerts_open_key ON alerts (target, kind, subject) WHERE state = 'open';
CREATE INDEX alerts_opened ON alerts (opened_at);
CREATE INDEX alerts_resolved ON alerts (resolved_at) WHERE state = 'resolved';

-- Notifications waiting for delivery, written in the same transaction as the
-- alert change that causes them and deleted once Slack accepted them.
-- payload is the JSON of pinwatchd.Notification. An identity never gives a
-- delivered notification's id to a newer one.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at   bigint NOT NULL,
    channel      text   NOT NULL,
    alert_id     bigint, -- the alert it is about, if any
    payload      text   NOT NULL,
    attempts     integer NOT NULL,
    next_attempt bigint NOT NULL,
    last_error   text   NOT NULL
);

CREATE INDEX outbox_due ON outbox (next_attempt, id);
