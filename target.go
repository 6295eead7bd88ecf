package pinwatchd

import (
	"net"
	"strconv"
	"time"
)

// Target is a configured name to watch. Its pin-sets are resolved: the
// configured `[[pinset]]`s it names plus its inline pins as PinSetInline.
type Target struct {
	Name string
	Host string
	Port int
	// SNI overrides the server name sent in the handshake; the name
	// verified and the Host header are still Host.
	SNI string
	// Addresses replace DNS: each "ip:port".
	Addresses []string
	// CAFile is a PEM bundle of extra trust anchors; empty for none.
	CAFile  string
	PinSets []PinSet

	HTTP          bool   // send one HTTP request after the handshake
	Path          string // request path, "/" by default
	RequireHeader bool   // no_pin_header is a warning, not info
	RequireHSTS   bool   // hsts_missing is a warning, not info

	Schedule     string // cron spec overriding the global schedule; empty for none
	SlackChannel string // overrides the default Slack channel; empty for none
}

// ServerName returns the SNI to send: SNI if set, else Host.
func (t *Target) ServerName() string {
	if t.SNI != "" {
		return t.SNI
	}
	return t.Host
}

// HostPort returns host:port of the target, bracketing IPv6 literals.
func (t *Target) HostPort() string {
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// Thresholds are the evaluation windows.
type Thresholds struct {
	ExpiryWarning  time.Duration // cert_expiring and pinset_expiring warn inside this
	ExpiryCritical time.Duration // cert_expiring is critical inside this
}

// DefaultThresholds are the SPEC §10 defaults: 30 and 7 days.
var DefaultThresholds = Thresholds{ExpiryWarning: 30 * 24 * time.Hour, ExpiryCritical: 7 * 24 * time.Hour}

// Report is the result of probing and evaluating one target once: the
// per-target object of the probe and check JSON (SPEC §5).
type Report struct {
	Name      string        `json:"name"`
	Host      string        `json:"host"`
	Port      int           `json:"port"`
	ProbedAt  time.Time     `json:"probed_at"`
	Addresses []Observation `json:"addresses"`
	Findings  []Finding     `json:"findings"`
}
