package monitor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParseResolver parses the address of a DNS server, as the config's
// `resolver` and `probe --resolver` give it: an IP literal and a port,
// "127.0.0.1:53" or "[::1]:53". The error names the value and says how to
// write one.
func ParseResolver(s string) (netip.AddrPort, error) {
	v := strings.TrimSpace(s)
	hint := `write an IP address and a port, e.g. "127.0.0.1:53" or "[::1]:53"`
	ap, err := netip.ParseAddrPort(v)
	if err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, fmt.Errorf("resolver %q has port 0; %s", s, hint)
		}
		if ap.Addr().Zone() != "" {
			return netip.AddrPort{}, fmt.Errorf("resolver %q has an IPv6 zone; %s", s, hint)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if _, perr := netip.ParseAddr(strings.Trim(v, "[]")); perr == nil {
		return netip.AddrPort{}, fmt.Errorf("resolver %q has no port; %s", s, hint)
	}
	host, port, serr := net.SplitHostPort(v)
	if _, perr := netip.ParseAddr(host); serr == nil && perr == nil {
		return netip.AddrPort{}, fmt.Errorf("resolver %q: port %q is not a number from 1 to 65535; %s", s, port, hint)
	}
	if serr == nil && host != "" {
		return netip.AddrPort{}, fmt.Errorf("resolver %q names a host, not an IP address (finding it would need a resolver); %s", s, hint)
	}
	return netip.AddrPort{}, fmt.Errorf("resolver %q is not an IP address and port; %s", s, hint)
}

// NewResolver returns a resolver that sends every query to the DNS server at
// addr, over UDP and, when an answer comes back truncated, over TCP, as Go's
// own resolver does; nil, meaning the system resolver, for the zero addr.
// The system's resolver configuration still applies otherwise: names in
// /etc/hosts, and the search domains, timeout and attempts of
// /etc/resolv.conf (its nameserver lines are ignored).
func NewResolver(addr netip.AddrPort) *net.Resolver {
	if !addr.IsValid() {
		return nil
	}
	server := addr.String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}
