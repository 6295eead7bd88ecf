-- Several nodes on one database (SPEC §14).
--
-- An alert lists the (vantage, address) pairs it affects: sites is a JSON
-- array of {"vantage", "address"}, and addresses stays the list of its
-- distinct addresses. The pairs of the alerts already stored get an empty
-- vantage, which the next node to judge them takes over.
ALTER TABLE alerts ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';

UPDATE alerts SET sites = (SELECT coalesce(json_group_array(json_object('vantage', '', 'address', value)), '[]')
                           FROM json_each(alerts.addresses));

-- A node claims the outbox rows it delivers for a lease: claimed_by names
-- the node, lease_until (unix seconds) ends the claim, after which another
-- node may deliver them (the node died mid-send). '' and NULL: unclaimed.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;

-- A 429 of Slack pauses every send to its destination (the notification's
-- channel, '' for the default one) until paused_until (unix seconds), for
-- every node.
CREATE TABLE delivery_pauses (
    destination  TEXT    PRIMARY KEY,
    paused_until INTEGER NOT NULL
) STRICT;
