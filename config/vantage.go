package config

import (
	"os"
	"time"

	"github.com/pinwatchd/pinwatchd/monitor"
)

// Several vantage points sharing one database (SPEC §14): the node's name
// and how long the others wait before calling it silent.

// NodeSilentAfter returns `[alerts] node_silent_after` in force at now:
// the configured value, else 3 × the default schedule's interval (for a
// cron schedule, the gap between its next two firings after now) and at
// least MinDefaultNodeSilentAfter.
func (c *Config) NodeSilentAfter(now time.Time) time.Duration {
	if a := c.Alerts.NodeSilentAfter; a != nil {
		return a.Duration
	}
	return max(3*monitor.NextGap(c.Schedule.String(), now), MinDefaultNodeSilentAfter)
}

// VantageName returns the vantage point in force: Vantage, else
// DefaultVantage.
func (c *Config) VantageName() string {
	if c.Vantage != "" {
		return c.Vantage
	}
	return DefaultVantage()
}

// DefaultVantage is the vantage point of a node that names none: the host
// name, else "local" when the host name cannot be read. `pinwatchd probe`,
// which reads no config, uses it too.
func DefaultVantage() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "local"
}

// validVantage reports whether name is a vantage name: it is shown in
// tables, Slack messages and alert targets (vantage/NAME), so it is kept to
// a short word.
func validVantage(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
