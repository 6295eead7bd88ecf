-- What the alert rules remember of a target's name (SPEC §6) is a node's
-- own: nodes sharing one database each resolve names from where they are
-- (split horizon), so one node's count of rounds without an answer is not
-- another's. name_rounds is now keyed by (target, vantage, address). Rows
-- written before vantages existed get ''; a node with no rows of its own
-- for a target reads those, and its first save of the target removes them
-- (NameState, SaveNameState), so an upgraded node keeps its counts.
-- SQLite cannot change a primary key, so the table is rebuilt.
CREATE TABLE name_rounds_new (
    target  TEXT    NOT NULL,
    vantage TEXT    NOT NULL DEFAULT '',
    address TEXT    NOT NULL, -- '' for the name itself, else ip:port
    rounds  INTEGER NOT NULL CHECK (rounds > 0),
    PRIMARY KEY (target, vantage, address)
) STRICT, WITHOUT ROWID;

INSERT INTO name_rounds_new (target, vantage, address, rounds)
SELECT target, '', address, rounds FROM name_rounds;

DROP TABLE name_rounds;

ALTER TABLE name_rounds_new RENAME TO name_rounds;
