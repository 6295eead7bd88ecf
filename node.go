package pinwatchd

import "time"

// Node is one pinwatchd daemon writing to the database, as its heartbeat
// row says (SPEC §14): nodes probing from several places share one
// PostgreSQL database, and each tells the others it is alive.
type Node struct {
	// Vantage names the node's vantage point; it identifies the row.
	Vantage string
	// Host is the machine's host name; Version the pinwatchd version.
	Host, Version string
	// StartedAt is when the daemon started, LastSeen its latest heartbeat
	// (UTC, to the second).
	StartedAt, LastSeen time.Time
}
