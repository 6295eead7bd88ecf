-- What the alert rules remember of a target's name (SPEC §6) is a node's
-- own: nodes sharing one database each resolve names from where they are
-- (split horizon), so one node's count of rounds without an answer is not
-- another's. name_rounds is now keyed by (target, vantage, address). Rows
-- written before vantages existed get ''; a node with no rows of its own
-- for a target reads those, and its first save of the target removes them
-- (NameState, SaveNameState), so an upgraded node keeps its counts.
-- The same step as the SQLite backend's 0010_name_vantage.sql, which
-- rebuilds the table; PostgreSQL swaps the primary key in place.
ALTER TABLE name_rounds ADD COLUMN vantage text NOT NULL DEFAULT '';
ALTER TABLE name_rounds DROP CONSTRAINT name_rounds_pkey;
ALTER TABLE name_rounds ADD PRIMARY KEY (target, vantage, address);
