package config

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The checks of names and addresses that reach the network: a target's
// host and sni are copied into DNS queries, the TLS handshake and the HTTP
// Host header (SPEC §16), the HTTP listener's address decides who can read
// /metrics (SPEC §7), and a Slack URL carries a secret (SPEC §16).

// hasControlOrSpace reports whether s holds whitespace, a control
// character (C0, DEL, C1) or bytes that are not UTF-8.
func hasControlOrSpace(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// isDNSName reports whether s is a DNS name in ASCII: dot-separated labels
// of 1 to 63 letters, digits, hyphens or underscores, at most 253
// characters, with an optional final dot.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isHostName reports whether s is a DNS name or an IP literal (IPv6
// without brackets, optionally with a zone).
func isHostName(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return isDNSName(s)
}

// hostNameHint says how a host name is written.
const hostNameHint = `write a DNS name or IP address such as "api.example.com" or "192.0.2.10" (an internationalised name in its xn-- form)`

// serverName checks a name copied into DNS, SNI and the Host header (a
// target's host or sni): a DNS name or an IP literal. The value is shown
// quoted, control characters escaped.
func (v *validator) serverName(key, name, value string) {
	switch {
	case hasControlOrSpace(value):
		v.add(key, "%s = %q contains whitespace or a control character; %s", name, value, hostNameHint)
	case strings.Contains(value, "/") || strings.HasPrefix(value, "["):
		v.add(key, "%s = %q must be a bare host name or IP (no scheme, path or brackets)", name, value)
	case hasPort(value):
		v.add(key, "%s = %q must not include a port; set port = … instead", name, value)
	case !isHostName(value):
		v.add(key, "%s = %q is not a DNS name or IP address; %s", name, value, hostNameHint)
	}
}

// hasPort reports whether s is written host:port.
func hasPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}

// isLoopbackHost reports whether host (from a URL or a listen address,
// without brackets) names this machine only: "localhost", or an address of
// 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// loopbackHint says which http:// URLs are accepted.
const loopbackHint = "plain http:// is accepted only to a loopback host (127.0.0.1, ::1 or localhost), for tests"

// isSlackURL reports whether s may carry a Slack secret: an https:// URL
// with a host, or an http:// URL to a loopback host (a stand-in for
// tests).
func isSlackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return isLoopbackHost(u.Hostname())
	}
	return false
}

// listen checks the HTTP listener's address: [http] listen, or its old
// name [metrics] listen (not both). It must be host:port, and loopback
// unless [http] allow_remote is set.
func (v *validator) listen() {
	key, l := "http.listen", v.c.HTTP.Listen
	switch {
	case l != "" && v.c.Metrics.Listen != "":
		v.add("metrics.listen", "listen is set in both [http] and [metrics]; keep [http] listen ([metrics] listen is its old name)")
	case l == "":
		key, l = "metrics.listen", v.c.Metrics.Listen
	}
	if l == "" {
		return
	}
	host, port, err := net.SplitHostPort(l)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		v.add(key, "listen = %q is not host:port; write e.g. \"127.0.0.1:9794\" (loopback is recommended)", l)
		return
	}
	switch {
	case host != "" && !isHostName(host):
		v.add(key, "listen = %q: %q is not an IP address or host name; write e.g. \"127.0.0.1:%s\"", l, host, port)
	case !v.c.HTTP.AllowRemote && !isLoopbackHost(host):
		v.add(key, "listen = %q is not a loopback address, so /metrics and /healthz would be reachable from the network; listen on %q, or set [http] allow_remote = true", l, net.JoinHostPort("127.0.0.1", port))
	}
}
