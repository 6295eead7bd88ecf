-- What the alert rules remember between rounds about a target's name (SPEC
-- §6), so that a restart or a reload keeps it: the rounds in a row in which
-- the name did not resolve (address ''), and, per address of an open alert,
-- the rounds in a row in which the name resolved without it. A target with
-- nothing to remember has no rows. The same step as the SQLite backend's
-- 0003_dns.sql.
CREATE TABLE name_rounds (
    target  text    NOT NULL,
    address text    NOT NULL, -- '' for the name itself, else ip:port
    rounds  integer NOT NULL CHECK (rounds > 0),
    PRIMARY KEY (target, address)
);
