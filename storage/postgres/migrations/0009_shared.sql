-- Several nodes on one database (SPEC §14). The same step as the SQLite
-- backend's 0009_shared.sql.
--
-- An alert lists the (vantage, address) pairs it affects: sites is a JSON
-- array of {"vantage", "address"}, and addresses stays the list of its
-- distinct addresses. The pairs of the alerts already stored get an empty
-- vantage, which the next node to judge them takes over. alerts_open_key
-- (0002) keeps one open alert per (target, kind, subject) across nodes.
ALTER TABLE alerts ADD COLUMN sites text NOT NULL DEFAULT '[]';

UPDATE alerts SET sites = (SELECT coalesce(json_agg(json_build_object('vantage', '', 'address', a)), '[]')::text
                           FROM json_array_elements_text(alerts.addresses::json) AS a);

-- A node claims the outbox rows it delivers for a lease: claimed_by names
-- the node, lease_until (unix seconds) ends the claim, after which another
-- node may deliver them (the node died mid-send). '' and NULL: unclaimed.
ALTER TABLE outbox ADD COLUMN claimed_by text NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until bigint;

-- A 429 of Slack pauses every send to its destination (the notification's
-- channel, '' for the default one) until paused_until (unix seconds), for
-- every node.
CREATE TABLE delivery_pauses (
    destination  text   PRIMARY KEY,
    paused_until bigint NOT NULL
);
