package monitor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// The header names as servers send them.
const (
	pkpHeaderName   = "Public-Key-Pins"
	pkpROHeaderName = "Public-Key-Pins-Report-Only"
	hstsHeaderName  = "Strict-Transport-Security"
)

const wholeDay = 24 * time.Hour

// pinSetLabel names a pin-set in a message, saying which header a header
// pin-set came from.
func pinSetLabel(s pinwatchd.PinSet) string {
	switch s.Name {
	case pinwatchd.PinSetHeader:
		return fmt.Sprintf("pin-set %q (the %s header)", s.Name, pkpHeaderName)
	case pinwatchd.PinSetHeaderReportOnly:
		return fmt.Sprintf("pin-set %q (the %s header)", s.Name, pkpROHeaderName)
	}
	return fmt.Sprintf("pin-set %q", s.Name)
}

func joinPins(pins []pinwatchd.Pin) string {
	if len(pins) == 0 {
		return "none"
	}
	parts := make([]string, len(pins))
	for i, p := range pins {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// formatWhen prints a time in UTC, as a bare date when it is midnight.
func formatWhen(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(wholeDay)) {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// daysLeftPhrase says how many whole days remain.
func daysLeftPhrase(n int) string {
	switch {
	case n <= 0:
		return "less than a day left"
	case n == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", n)
}

// daysAgoPhrase says how long ago something passed, in whole days.
func daysAgoPhrase(d time.Duration) string {
	switch n := int(d / wholeDay); {
	case n <= 0:
		return "less than a day ago"
	case n == 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", n)
	}
}

func connectivityMessage(o *pinwatchd.Observation) string {
	msg := fmt.Sprintf("probe of %s failed (%s)", o.Address, o.Error.Kind)
	if o.Error.Message != "" {
		msg += ": " + o.Error.Message
	}
	return msg
}

func pinMismatchMessage(s pinwatchd.PinSet, addr string, leaf pinwatchd.Pin, pins []pinwatchd.Pin) string {
	msg := fmt.Sprintf("%s has no pin matching the chain served at %s (leaf key %s; pinned: %s)",
		pinSetLabel(s), addr, leaf, joinPins(pins))
	if s.ReportOnly {
		msg += "; browsers only report this header, they do not enforce it"
	}
	return msg
}

func missingBackupMessage(s pinwatchd.PinSet, addr string, pins []pinwatchd.Pin) string {
	switch {
	case len(pins) == 0:
		return fmt.Sprintf("%s has no pins, so it has no backup pin", pinSetLabel(s))
	case len(pins) == 1:
		return fmt.Sprintf("%s has a single pin (%s), so it has no backup pin for a key rotation",
			pinSetLabel(s), pins[0])
	}
	return fmt.Sprintf("every pin of %s matches a key of the chain served at %s (pinned: %s), so none is a backup pin for a key rotation",
		pinSetLabel(s), addr, joinPins(pins))
}

func pinSetExpiringMessage(s pinwatchd.PinSet, now time.Time) string {
	return fmt.Sprintf("pin-set %q expires on %s (%s); clients stop enforcing it then",
		s.Name, formatWhen(s.Expires), daysLeftPhrase(int(s.Expires.Sub(now)/wholeDay)))
}

func pinSetExpiredMessage(s pinwatchd.PinSet, now time.Time) string {
	return fmt.Sprintf("pin-set %q expired on %s (%s); clients no longer enforce it",
		s.Name, formatWhen(s.Expires), daysAgoPhrase(now.Sub(s.Expires)))
}

func certExpiryMessage(c pinwatchd.Cert, pos, addr string, now time.Time) string {
	if now.After(c.NotAfter) {
		return fmt.Sprintf("certificate %q (%s) served at %s expired on %s (%s)",
			c.Label(), pos, addr, formatWhen(c.NotAfter), daysAgoPhrase(now.Sub(c.NotAfter)))
	}
	return fmt.Sprintf("certificate %q (%s) served at %s expires on %s (%s)",
		c.Label(), pos, addr, formatWhen(c.NotAfter), daysLeftPhrase(c.DaysLeft(now)))
}

func untrustedMessage(o *pinwatchd.Observation) string {
	msg := fmt.Sprintf("the chain served at %s does not verify", o.Address)
	if r := o.Verification.UntrustedReason; r != "" {
		msg += ": " + r
	}
	return msg
}

func hostnameMessage(t *pinwatchd.Target, o *pinwatchd.Observation) string {
	label := "the certificate"
	if leaf := o.Leaf(); leaf != nil {
		label = fmt.Sprintf("certificate %q", leaf.Label())
	}
	msg := fmt.Sprintf("%s served at %s is not valid for host %q", label, o.Address, t.Host)
	if e := o.Verification.HostnameError; e != "" {
		msg += ": " + e
	}
	return msg
}

func headerMalformedMessage(name string, h *pinwatchd.PinHeader, addr string) string {
	msg := fmt.Sprintf("the %s header served at %s is malformed and ignored for pinning", name, addr)
	if len(h.Errors) > 0 {
		msg += ": " + strings.Join(h.Errors, "; ")
	}
	return msg
}

func reportOnlyMessage(h *pinwatchd.PinHeader, o *pinwatchd.Observation) string {
	msg := fmt.Sprintf("%s sends %s and no %s header: browsers report violations of its pins but do not enforce them",
		o.Address, pkpROHeaderName, pkpHeaderName)
	chain := o.Chain()
	switch {
	case !h.Valid:
		msg += " (the header is malformed)"
	case len(chain) == 0:
	case slices.ContainsFunc(h.Pins, func(p pinwatchd.Pin) bool { return chainHasPin(chain, p) }):
		msg += " (its pins match the served chain)"
	default:
		msg += " (none of its pins matches the served chain)"
	}
	return msg
}

func hstsMalformedMessage(h *pinwatchd.HSTSHeader, addr string) string {
	msg := fmt.Sprintf("the %s header served at %s is malformed", hstsHeaderName, addr)
	if len(h.Errors) > 0 {
		msg += ": " + strings.Join(h.Errors, "; ")
	}
	return msg
}

// noHTTPResponse says why no header could be read when the endpoint did not
// answer HTTP, or returns "".
func noHTTPResponse(o *pinwatchd.Observation) string {
	if o.HTTP == nil || o.HTTP.Error == "" {
		return ""
	}
	return fmt.Sprintf("%s did not answer HTTP (%s), so ", o.Address, o.HTTP.Error)
}

func noPinHeaderMessage(o *pinwatchd.Observation) string {
	if p := noHTTPResponse(o); p != "" {
		return p + fmt.Sprintf("no %s header was received", pkpHeaderName)
	}
	return fmt.Sprintf("the HTTP response from %s has no %s or %s header", o.Address, pkpHeaderName, pkpROHeaderName)
}

func hstsMissingMessage(o *pinwatchd.Observation) string {
	if p := noHTTPResponse(o); p != "" {
		return p + fmt.Sprintf("no %s header was received", hstsHeaderName)
	}
	return fmt.Sprintf("the HTTP response from %s has no %s header", o.Address, hstsHeaderName)
}

// ipInconsistentMessage lists each leaf key with the addresses serving it,
// the keys served by the most addresses first.
func ipInconsistentMessage(byPin map[pinwatchd.Pin][]string) string {
	type group struct {
		pin   string
		addrs []string
	}
	groups := make([]group, 0, len(byPin))
	for p, addrs := range byPin {
		addrs = slices.Clone(addrs)
		slices.Sort(addrs)
		groups = append(groups, group{p.String(), addrs})
	}
	slices.SortFunc(groups, func(a, b group) int {
		if len(a.addrs) != len(b.addrs) {
			return len(b.addrs) - len(a.addrs)
		}
		return strings.Compare(a.pin, b.pin)
	})
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = fmt.Sprintf("leaf key %s at %s", g.pin, strings.Join(g.addrs, ", "))
	}
	return fmt.Sprintf("the addresses serve %d different leaf keys: %s", len(groups), strings.Join(parts, "; "))
}
