-- What the alert rules remember between rounds about a target's name (SPEC
-- §6), so that a restart or a reload keeps it: the rounds in a row in which
-- the name did not resolve (address ''), and, per address of an open alert,
-- the rounds in a row in which the name resolved without it. A target with
-- nothing to remember has no rows.
CREATE TABLE name_rounds (
    target  TEXT    NOT NULL,
    address TEXT    NOT NULL, -- '' for the name itself, else ip:port
    rounds  INTEGER NOT NULL CHECK (rounds > 0),
    PRIMARY KEY (target, address)
) STRICT, WITHOUT ROWID;
