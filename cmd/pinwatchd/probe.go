package main

import (
	"context"
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
	t, err := monitor.AdHoc{Arg: pos[0], SNI: *sni, Connect: connect, CAFile: *caFile, Pins: pins, HTTP: !*noHTTP}.Target()
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
