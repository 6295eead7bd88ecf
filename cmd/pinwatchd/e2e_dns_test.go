package main

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// The daemon across DNS trouble: its `resolver` points at the stand-in DNS
// server, which answers, fails and changes its answer while the daemon runs.

// e2eHost is the name the stand-in DNS server answers for.
const e2eHost = "api.pinwatchd.test"

// namedLeaf issues a leaf of the fleet's intermediate valid for e2eHost,
// with its own key.
func (f *fleet) namedLeaf(t *testing.T) *testpki.Cert {
	t.Helper()
	return f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: e2eHost, DNSNames: []string{e2eHost}})
}

// namedTarget is a target resolved by name through the stand-in DNS,
// trusting the fleet's CA, with the given pins.
func (f *fleet) namedTarget(name string, port int, opts ...func(*config.TargetConfig)) config.TargetConfig {
	tc := config.TargetConfig{Name: name, Host: e2eHost, Port: &port, CAFile: f.caFile}
	for _, o := range opts {
		o(&tc)
	}
	return tc
}

// dnsFailedRounds counts the rounds the daemon logged a failed lookup: one
// "probe failed" line each.
func dnsFailedRounds(d *daemonProc) int {
	n := 0
	for line := range strings.Lines(d.output.String()) {
		if strings.Contains(line, `msg="probe failed"`) && strings.Contains(line, "kind=dns_failed") {
			n++
		}
	}
	return n
}

func TestDaemonDNSBlip(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	srv := testpki.Serve(t, testpki.Chain(f.namedLeaf(t), f.pki.Intermediate), testpki.HeaderHandler(hstsHeaders))
	_, ps, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(ps)
	dns := pinwatchdtest.NewDNS(t)
	dns.Set(e2eHost, "127.0.0.1")
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	// Two pins, neither the served key's: a pin_mismatch, with a backup.
	pins := withPins(f.pki.Leaf.Pin(), testpki.KeyPin(t, f.pki.Spare))
	e2eConfig{db: db, threshold: 2, resolver: dns.Addr, webhookFile: slack.WebhookFile(t, f.dir),
		targets: []config.TargetConfig{f.namedTarget("api", port, pins)}}.write(t, cfg)
	d := startDaemon(t, cfg)

	var mismatch e2eAlert
	waitFor(t, "a pin_mismatch alert at "+srv.Addr, func() bool {
		a, ok := queryAlerts(t, db, true).find("api", "pin_mismatch")
		mismatch = a
		return ok && a.State == "open"
	})
	if len(mismatch.Addresses) != 1 || mismatch.Addresses[0] != srv.Addr {
		t.Fatalf("pin_mismatch lists %v, want %s (the address the stand-in DNS answered)", mismatch.Addresses, srv.Addr)
	}
	// The daemon asked the stand-in server, not the system resolver.
	if len(dns.Queries()) == 0 {
		t.Fatal("the stand-in DNS server received no query")
	}

	// Three rounds of SERVFAIL. Throughout, the pin_mismatch is the same
	// open alert; dns_failed opens at the second failed round, not before.
	dns.SetMode(pinwatchdtest.DNSServFail)
	failedBefore := dnsFailedRounds(d)
	dnsOpenedAfter := 0
	waitFor(t, "three rounds of failed lookups", func() bool {
		rounds := dnsFailedRounds(d) - failedBefore
		as := queryAlerts(t, db, true)
		if a, ok := as.find("api", "pin_mismatch"); !ok || a.ID != mismatch.ID || a.State != "open" {
			t.Fatalf("during the DNS outage pin_mismatch is %+v, want alert %d open", a, mismatch.ID)
		}
		if a, ok := as.find("api", "dns_failed"); ok && dnsOpenedAfter == 0 {
			dnsOpenedAfter = dnsFailedRounds(d) - failedBefore
			if a.Subject != e2eHost || a.State != "open" {
				t.Errorf("dns_failed = %+v, want open about %s", a, e2eHost)
			}
		}
		return rounds >= 3
	})
	if dnsOpenedAfter == 0 {
		waitFor(t, "dns_failed to open", func() bool { return openAlert(queryAlerts(t, db, false), "api", "dns_failed") })
	} else if dnsOpenedAfter < 2 {
		t.Errorf("dns_failed was open after %d failed round, want failure_threshold (2)", dnsOpenedAfter)
	}

	dns.SetMode(pinwatchdtest.DNSAnswer)
	waitFor(t, "dns_failed to resolve", func() bool {
		a, ok := queryAlerts(t, db, true).find("api", "dns_failed")
		return ok && a.State == "resolved"
	})
	dnsAlert, _ := queryAlerts(t, db, true).find("api", "dns_failed")
	if got := deref(dnsAlert.ResolveReason); got != "the name resolves again" {
		t.Errorf("dns_failed resolved with %q, want \"the name resolves again\"", got)
	}
	// A few more good rounds: still the same alert, and no second opening.
	before := lastSeen(t, db, "api")
	waitFor(t, "two more rounds with answers", func() bool {
		return lastSeen(t, db, "api").Sub(before).Seconds() >= 2
	})
	waitFor(t, "Slack to get the dns_failed messages", func() bool {
		return slack.Count("resolved", "api", "dns_failed") >= 1 && queryAlerts(t, db, false).NotificationsPending == 0
	})
	d.stop(t)

	if a, ok := queryAlerts(t, db, true).find("api", "pin_mismatch"); !ok || a.ID != mismatch.ID || a.State != "open" {
		t.Errorf("after the outage pin_mismatch is %+v, want alert %d still open", a, mismatch.ID)
	}
	for _, c := range []struct {
		change, kind string
		want         int
	}{
		{"opened", "pin_mismatch", 1},
		{"resolved", "pin_mismatch", 0},
		{"reminder", "pin_mismatch", 0},
		{"opened", "dns_failed", 1},
		{"resolved", "dns_failed", 1},
	} {
		if n := slack.Count(c.change, "api", c.kind); n != c.want {
			t.Errorf("Slack got %d %s messages for %s, want %d", n, c.change, c.kind, c.want)
		}
	}
	slack.CheckPaths(t)
}

func TestDaemonAddressLeavesDNS(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	good, bad := f.namedLeaf(t), f.namedLeaf(t)
	// Two servers on one port of two loopback addresses: every address of
	// 127.0.0.0/8 is local on Linux, so 127.0.0.2 needs no setup.
	first, second := servePair(t, testpki.Chain(good, f.pki.Intermediate), testpki.Chain(bad, f.pki.Intermediate))
	_, ps, _ := net.SplitHostPort(first.Addr)
	port, _ := strconv.Atoi(ps)
	dns := pinwatchdtest.NewDNS(t)
	dns.Set(e2eHost, "127.0.0.1", "127.0.0.2")
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, threshold: 2, resolver: dns.Addr, webhookFile: slack.WebhookFile(t, f.dir),
		targets: []config.TargetConfig{f.namedTarget("api", port, withPins(good.Pin(), testpki.KeyPin(t, f.pki.Spare)))}}.write(t, cfg)
	d := startDaemon(t, cfg)

	waitFor(t, "pin_mismatch at "+second.Addr+" and ip_inconsistent", func() bool {
		as := queryAlerts(t, db, false)
		return openAlert(as, "api", "pin_mismatch") && openAlert(as, "api", "ip_inconsistent")
	})
	as := queryAlerts(t, db, false)
	mismatch, _ := as.find("api", "pin_mismatch")
	if strings.Join(mismatch.Addresses, ",") != second.Addr {
		t.Fatalf("pin_mismatch lists %v, want only %s", mismatch.Addresses, second.Addr)
	}
	if incons, _ := as.find("api", "ip_inconsistent"); strings.Join(incons.Addresses, ",") != first.Addr+","+second.Addr {
		t.Errorf("ip_inconsistent lists %v, want both addresses", incons.Addresses)
	}

	// 127.0.0.2 leaves DNS: after failure_threshold (2) rounds without it,
	// it is cleared, and both alerts, which it was the last address of,
	// resolve saying so.
	dns.Set(e2eHost, "127.0.0.1")
	want := "no longer served at " + second.Addr
	waitFor(t, "pin_mismatch to resolve", func() bool {
		a, ok := queryAlerts(t, db, true).find("api", "pin_mismatch")
		return ok && a.State == "resolved"
	})
	as = queryAlerts(t, db, true)
	for _, kind := range []string{"pin_mismatch", "ip_inconsistent"} {
		a, _ := as.find("api", kind)
		if a.State != "resolved" || deref(a.ResolveReason) != want {
			t.Errorf("%s = %s with reason %q, want resolved with %q", kind, a.State, deref(a.ResolveReason), want)
		}
	}
	waitFor(t, "Slack to get the resolve messages", func() bool {
		return slack.Count("resolved", "api", "pin_mismatch") >= 1 && queryAlerts(t, db, false).NotificationsPending == 0
	})
	d.stop(t)
	for _, e := range slack.Delivered() {
		if e.Change == "resolved" && e.Kind == "pin_mismatch" && !strings.Contains(e.Text, want) {
			t.Errorf("the resolve message does not say why: %s", e.Text)
		}
	}
	for _, c := range []struct{ change, kind string }{
		{"opened", "pin_mismatch"}, {"resolved", "pin_mismatch"}, {"opened", "ip_inconsistent"}, {"resolved", "ip_inconsistent"},
	} {
		if n := slack.Count(c.change, "api", c.kind); n != 1 {
			t.Errorf("Slack got %d %s messages for %s, want 1", n, c.change, c.kind)
		}
	}
	slack.CheckPaths(t)
}

// servePair starts a server presenting a on 127.0.0.1 and one presenting b
// on 127.0.0.2, on the same port.
func servePair(t *testing.T, a, b tls.Certificate) (*testpki.Server, *testpki.Server) {
	t.Helper()
	for range 20 {
		first := testpki.ServeOn(t, "127.0.0.1:0", a, testpki.HeaderHandler(hstsHeaders))
		_, port, _ := net.SplitHostPort(first.Addr)
		// Check the port is free on 127.0.0.2 before the server takes it.
		ln, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err != nil {
			continue
		}
		ln.Close()
		return first, testpki.ServeOn(t, "127.0.0.2:"+port, b, testpki.HeaderHandler(hstsHeaders))
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return nil, nil
}
