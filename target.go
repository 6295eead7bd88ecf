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

	// STARTTLS is the plaintext protocol spoken before the handshake
	// (SPEC §12); empty for none. HTTP is off for such a target.
	STARTTLS Protocol
	// EHLO is the name sent in SMTP's EHLO; empty means "pinwatchd".
	EHLO string
	// DANE looks up the TLSA RRset at TLSAName(Host, Port).
	DANE bool
	// RequireTLSA makes no_tlsa a warning, not info.
	RequireTLSA bool
	// MX, when set, makes this an mx target: every round resolves the MX
	// records of the domain MX and watches each exchange as a sub-target
	// (MXTarget); Host is then empty.
	MX string
}

// MXTarget returns the sub-target of mx target t for one of its exchanges
// (SPEC §12): named "NAME/EXCHANGE", the exchange as host, t's port, SMTP
// STARTTLS and DANE, and t's other keys.
func (t *Target) MXTarget(exchange string) Target {
	s := *t
	s.Name = t.Name + "/" + exchange
	s.Host, s.MX = exchange, ""
	s.SNI, s.Addresses = "", nil
	s.STARTTLS, s.DANE, s.HTTP = ProtocolSMTP, true, false
	s.PinSets = append([]PinSet(nil), t.PinSets...)
	return s
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
