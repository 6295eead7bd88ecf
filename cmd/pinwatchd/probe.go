package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
	"github.com/pinwatchd/pinwatchd/monitor"
)

const probeUsage = "probe HOST[:PORT] [--sni N] [--connect IP[:PORT]]… [--ca-file F] [--pin P]… [--timeout D] [--no-http] [--starttls smtp|imap|pop3] [--dane] [--resolver IP:PORT] [--json]"

func runProbe(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "probe", probeUsage)
	sni := fs.String("sni", "", "server name to send in the handshake (default: HOST)")
	var connect, pins stringList
	fs.Var(&connect, "connect", "connect to this `IP[:PORT]` instead of resolving HOST (repeatable)")
	caFile := fs.String("ca-file", "", "PEM `file` of extra trust anchors")
	fs.Var(&pins, "pin", "expected `pin` (sha256/X, pin-sha256=\"X\" or X), forming the pin-set \"inline\" (repeatable)")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline for the whole probe of one address")
	noHTTP := fs.Bool("no-http", false, "do not send an HTTP request after the handshake")
	starttls := fs.String("starttls", "", "speak this `protocol` (smtp, imap or pop3) before the handshake; implies --no-http, and --dane for smtp")
	dane := fs.Bool("dane", false, "look up the TLSA records at _PORT._tcp.HOST and match them against the chain")
	resolver := fs.String("resolver", "", "send the DNS lookups (A, AAAA, TLSA) to the DNS server at this `IP:PORT` (default: the system resolver)")
	jsonOut := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		return fail(e.stderr, "probe takes exactly one HOST[:PORT], got %d arguments; usage: pinwatchd %s", len(pos), probeUsage)
	}
	t, err := probeTarget(pos[0], *sni, connect, *caFile, pins, !*noHTTP)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if err := probeMail(t, *starttls, *dane); err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *timeout <= 0 {
		return fail(e.stderr, "--timeout %s: must be positive", *timeout)
	}
	p := &monitor.Prober{Timeout: *timeout, UserAgent: userAgent(), Vantage: config.DefaultVantage()}
	if *resolver != "" {
		addr, err := monitor.ParseResolver(*resolver)
		if err != nil {
			return fail(e.stderr, "--resolver: %v", err)
		}
		p.Resolver, p.DNSServer = monitor.NewResolver(addr), addr
	}
	now := e.now().UTC()
	obs := p.Probe(ctx, t)
	if ctx.Err() != nil {
		return fail(e.stderr, "probe of %s interrupted", t.HostPort())
	}
	r := pinwatchd.Report{
		Name: t.Name, Host: t.Host, Port: t.Port, ProbedAt: now,
		Addresses: obs,
		Findings:  monitor.Evaluate(t, obs, pinwatchd.DefaultThresholds, e.now()),
	}
	if *jsonOut {
		if err := writeJSON(e.stdout, reportsJSON{Targets: normalizeReports([]pinwatchd.Report{r})}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
	} else {
		textreport.Probe(e.stdout, &r, e.now())
	}
	return pinwatchd.Worst(r.Findings).ExitCode()
}

// userAgent is the User-Agent of pinwatchd's HTTP requests.
func userAgent() string { return "pinwatchd/" + version }

// probeTarget builds the ad-hoc target of `probe` from its arguments.
func probeTarget(arg, sni string, connect []string, caFile string, pins []string, http bool) (*pinwatchd.Target, error) {
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
			return nil, fmt.Errorf("--ca-file %q: %w", caFile, unwrapPathError(err))
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

// unwrapPathError drops the *os.PathError wrapper whose path the caller
// already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
