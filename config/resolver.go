package config

import (
	"net/netip"

	"github.com/pinwatchd/pinwatchd/monitor"
)

// Resolver is the DNS server every lookup goes to (A and AAAA, MX and
// TLSA), written
// "IP:PORT" ("127.0.0.1:53", "[::1]:53"). The zero value means "not set":
// the system resolver.
type Resolver struct{ netip.AddrPort }

// UnmarshalText parses IP:PORT (see monitor.ParseResolver), so that a bad
// value is reported with its line.
func (r *Resolver) UnmarshalText(b []byte) error {
	v, err := monitor.ParseResolver(string(b))
	if err != nil {
		return err
	}
	r.AddrPort = v
	return nil
}

// IsSet reports whether a resolver was given.
func (r Resolver) IsSet() bool { return r.IsValid() }

// String returns "ip:port", or "" when not set.
func (r Resolver) String() string {
	if !r.IsSet() {
		return ""
	}
	return r.AddrPort.String()
}

// MarshalText returns String.
func (r Resolver) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
