package monitor

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// AdHoc is a target given on the command line (`pinwatchd probe`) rather
// than in a config.
type AdHoc struct {
	// Arg is HOST, HOST:PORT, [IPv6]:PORT, a bare IP address, or an
	// https:// URL whose path is then requested.
	Arg string
	// SNI overrides the server name sent; "" sends the host.
	SNI string
	// Connect lists IP or IP:PORT addresses replacing DNS; a bare IP takes
	// the target's port.
	Connect []string
	// CAFile names a PEM file of extra trust anchors.
	CAFile string
	// Pins form the pin-set "inline", in any form ParsePin accepts.
	Pins []string
	// HTTP sends one HTTP request after the handshake.
	HTTP bool
}

// Target builds the target, named after its host. Errors name the flag
// (--connect, --ca-file, --pin) or the argument at fault.
func (a AdHoc) Target() (*pinwatchd.Target, error) {
	arg, sni, connect, caFile, pins, http := a.Arg, a.SNI, a.Connect, a.CAFile, a.Pins, a.HTTP
	host, port, path, err := splitProbeArg(arg)
	if err != nil {
		return nil, err
	}
	t := &pinwatchd.Target{Name: host, Host: host, Port: port, SNI: sni, HTTP: http, Path: path, CAFile: caFile}
	for _, c := range connect {
		addr, err := joinAddress(c, port)
		if err != nil {
			return nil, fmt.Errorf("--connect %q: %w", c, err)
		}
		t.Addresses = append(t.Addresses, addr)
	}
	if caFile != "" {
		if _, err := os.Stat(caFile); err != nil {
			if pe, ok := err.(*os.PathError); ok {
				err = pe.Err // the message names the file already
			}
			return nil, fmt.Errorf("--ca-file %q: %w", caFile, err)
		}
	}
	if len(pins) > 0 {
		set := pinwatchd.PinSet{Name: pinwatchd.PinSetInline}
		for _, s := range pins {
			p, err := pinwatchd.ParsePin(s)
			if err != nil {
				return nil, fmt.Errorf("--pin: %w", err)
			}
			set.Pins = append(set.Pins, p)
		}
		t.PinSets = append(t.PinSets, set)
	}
	return t, nil
}

// splitProbeArg parses HOST, HOST:PORT, [IPv6]:PORT, a bare IPv6 address, or
// an https:// URL (whose path is then requested).
func splitProbeArg(arg string) (host string, port int, path string, err error) {
	path = "/"
	if strings.Contains(arg, "://") {
		u, err := url.Parse(arg)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return "", 0, "", fmt.Errorf("%q is not a host or an https:// URL", arg)
		}
		if u.Path != "" {
			path = u.EscapedPath()
		}
		arg = u.Host
	}
	if ip := net.ParseIP(arg); ip != nil {
		return arg, 443, path, nil
	}
	h, p, splitErr := net.SplitHostPort(arg)
	if splitErr != nil {
		if strings.ContainsAny(arg, "[]/ ") || arg == "" {
			return "", 0, "", fmt.Errorf("%q is not a valid HOST[:PORT]", arg)
		}
		return arg, 443, path, nil
	}
	n, convErr := strconv.Atoi(p)
	if convErr != nil || n < 1 || n > 65535 {
		return "", 0, "", fmt.Errorf("port %q of %q is not a number from 1 to 65535", p, arg)
	}
	if h == "" {
		return "", 0, "", fmt.Errorf("%q has no host", arg)
	}
	return h, n, path, nil
}

// joinAddress turns "IP" or "IP:PORT" into "ip:port", taking defaultPort for
// a bare IP.
func joinAddress(s string, defaultPort int) (string, error) {
	if ip := net.ParseIP(s); ip != nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(defaultPort)), nil
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("not an IP or IP:PORT")
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return "", fmt.Errorf("%q is not an IP address", h)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(n)), nil
}
