package querydoc

import (
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Node is one entry of `nodes --json`: a node sharing the database, as its
// heartbeat row says (SPEC §14).
type Node struct {
	Vantage   string    `json:"vantage"`
	Host      string    `json:"host"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	LastSeen  time.Time `json:"last_seen"`
}

// Nodes returns nodes in the shape of `nodes --json`, times in UTC; []
// for none.
func Nodes(nodes []pinwatchd.Node) []Node {
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, Node{Vantage: n.Vantage, Host: n.Host, Version: n.Version,
			StartedAt: n.StartedAt.UTC(), LastSeen: n.LastSeen.UTC()})
	}
	return out
}
