package monitor_test

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// The Runner across DNS trouble, on a real database: a target resolved by
// name, whose rounds are built by hand.

const (
	dnsHost  = "api.pinwatchd.test"
	dnsName  = dnsHost + ":8443"
	dnsAddrA = "127.0.0.1:8443"
	dnsAddrB = "127.0.0.2:8443"
)

// named is the fixture's target resolved by name, pinned to a key the
// fixture's leaf does not have: every answer is a pin_mismatch.
func (f *rnFixture) named() *pinwatchd.Target {
	t := f.target()
	t.Host, t.Addresses = dnsHost, nil
	t.PinSets[0].Pins = []pinwatchd.Pin{f.spare, {1: 1}}
	return t
}

// at is a successful observation of the fixture's leaf at addr.
func (f *rnFixture) at(addr string) pinwatchd.Observation {
	o := f.served(f.pki.Leaf)
	o.Address = addr
	return o
}

// unresolved is the round of a name that did not resolve.
func (f *rnFixture) unresolved() pinwatchd.Observation {
	return pinwatchd.Observation{Target: "api", Address: dnsName, SNI: dnsHost, Time: f.now,
		Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindDNSFailed, Message: "lookup " + dnsHost + ": server misbehaving"}}
}

// namedRound advances the clock and processes obs of the named target.
func (f *rnFixture) namedRound(r *monitor.Runner, obs ...pinwatchd.Observation) {
	f.t.Helper()
	f.now = f.now.Add(time.Minute)
	for i := range obs {
		obs[i].Time = f.now
	}
	if err := r.Process(f.t.Context(), f.named(), obs); err != nil {
		f.t.Fatalf("Process: %v", err)
	}
}

// alert returns the target's alert of kind, open or resolved, newest first.
func (f *rnFixture) alert(kind pinwatchd.Kind) (pinwatchd.Alert, bool) {
	f.t.Helper()
	as, err := f.db.Alerts(f.t.Context(), true)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range as {
		if a.Kind == kind {
			return a, true
		}
	}
	return pinwatchd.Alert{}, false
}

func TestRunnerDNSBlip(t *testing.T) {
	f := newRNFixture(t)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, RenotifyAfter: 24 * time.Hour, NotifyResolved: true}
	r := f.runner(pol, nil)
	f.namedRound(r, f.at(dnsAddrA))
	if ns := f.take(); !slices.Equal(describe(ns), []string{"opened pin_mismatch"}) {
		t.Fatalf("first round notified %v, want the pin_mismatch opening", describe(ns))
	}
	mismatch, _ := f.alert(pinwatchd.KindPinMismatch)

	// Three rounds without an answer, with a restart after the first: the
	// pin_mismatch stays as it is; dns_failed opens at the second.
	f.namedRound(r, f.unresolved())
	if ns := f.take(); len(ns) != 0 {
		t.Fatalf("one failed lookup notified %v", describe(ns))
	}
	f.reopen()
	r = f.runner(pol, nil)
	f.namedRound(r, f.unresolved())
	if ns := f.take(); !slices.Equal(describe(ns), []string{"opened dns_failed"}) {
		t.Fatalf("second failed lookup (after a restart) notified %v, want dns_failed opened", describe(ns))
	}
	f.namedRound(r, f.unresolved())
	if ns := f.take(); len(ns) != 0 {
		t.Fatalf("third failed lookup notified %v", describe(ns))
	}
	dns, _ := f.alert(pinwatchd.KindDNSFailed)
	if dns.State != pinwatchd.AlertOpen || dns.Subject != dnsHost || !slices.Equal(dns.Addresses, []string{dnsName}) {
		t.Errorf("dns_failed = %+v, want open about %s at %s", dns, dnsHost, dnsName)
	}
	if a, _ := f.alert(pinwatchd.KindPinMismatch); a.State != pinwatchd.AlertOpen || a.ID != mismatch.ID ||
		!slices.Equal(a.Addresses, []string{dnsAddrA}) || !a.LastNotifiedAt.Equal(mismatch.LastNotifiedAt) {
		t.Errorf("pin_mismatch during the outage = %+v, want it unchanged: %+v", a, mismatch)
	}

	f.namedRound(r, f.at(dnsAddrA))
	if ns := f.take(); !slices.Equal(describe(ns), []string{"resolved dns_failed"}) {
		t.Errorf("the name resolving again notified %v, want only dns_failed resolved", describe(ns))
	}
	if a, _ := f.alert(pinwatchd.KindPinMismatch); a.State != pinwatchd.AlertOpen || a.ID != mismatch.ID {
		t.Errorf("pin_mismatch after the outage = %+v, want the same alert open", a)
	}
	if a, _ := f.alert(pinwatchd.KindDNSFailed); a.ResolveReason != "the name resolves again" {
		t.Errorf("dns_failed resolved with %q", a.ResolveReason)
	}
	if s, _ := f.db.NameState(t.Context(), "api", ""); s.Unresolved != 0 || len(s.Absent) != 0 {
		t.Errorf("stored name state after recovery = %+v, want nothing", s)
	}
}

// TestRunnerDNSRunAfterRestart: a failed lookup long ago, the name
// resolving since, then a restart and one failed lookup: one failure in a
// row, below the threshold, whatever the spans at host:port say.
func TestRunnerDNSRunAfterRestart(t *testing.T) {
	f := newRNFixture(t)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}
	r := f.runner(pol, nil)
	f.namedRound(r, f.at(dnsAddrA))
	f.namedRound(r, f.unresolved())
	f.namedRound(r, f.at(dnsAddrA))
	f.namedRound(r, f.at(dnsAddrA))
	f.take()
	f.reopen()
	f.namedRound(f.runner(pol, nil), f.unresolved())
	if _, ok := f.alert(pinwatchd.KindDNSFailed); ok {
		t.Errorf("one failed lookup after a restart opened dns_failed")
	}
	f.reopen()
	f.namedRound(f.runner(pol, nil), f.unresolved())
	if a, ok := f.alert(pinwatchd.KindDNSFailed); !ok || a.State != pinwatchd.AlertOpen {
		t.Errorf("two failed lookups in a row across a restart: dns_failed %+v, want open", a)
	}
}

func TestRunnerAddressLeavesDNS(t *testing.T) {
	f := newRNFixture(t)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}
	r := f.runner(pol, nil)
	f.namedRound(r, f.at(dnsAddrA), f.at(dnsAddrB))
	f.take()
	mismatch, _ := f.alert(pinwatchd.KindPinMismatch)
	if !slices.Equal(mismatch.Addresses, []string{dnsAddrA, dnsAddrB}) {
		t.Fatalf("pin_mismatch at %v, want both addresses", mismatch.Addresses)
	}

	// B leaves the answer; a failed lookup in between does not count, and
	// neither does a restart.
	f.namedRound(r, f.at(dnsAddrA))
	f.namedRound(r, f.unresolved())
	f.reopen()
	r = f.runner(pol, nil)
	if a, _ := f.alert(pinwatchd.KindPinMismatch); !slices.Equal(a.Addresses, []string{dnsAddrA, dnsAddrB}) {
		t.Fatalf("after one round without %s: pin_mismatch at %v, want it kept", dnsAddrB, a.Addresses)
	}
	f.namedRound(r, f.at(dnsAddrA))
	a, _ := f.alert(pinwatchd.KindPinMismatch)
	if a.ID != mismatch.ID || a.State != pinwatchd.AlertOpen || !slices.Equal(a.Addresses, []string{dnsAddrA}) {
		t.Errorf("after two resolved rounds without %s: pin_mismatch %+v, want the same alert open at %s only", dnsAddrB, a, dnsAddrA)
	}
	if ns := f.take(); len(ns) != 0 {
		t.Errorf("an address leaving a firing alert notified %v", describe(ns))
	}
	if s, _ := f.db.NameState(t.Context(), "api", ""); len(s.Absent) != 0 {
		t.Errorf("stored absences %v after the address was cleared, want none", s.Absent)
	}
}

// Two nodes of one database resolve the same name differently (split
// horizon): vantage a's resolver drops an alerted address from its answer
// while vantage b's fails. Each counts its own rounds, also across a
// restart of both: a clears the address it no longer sees after
// failure_threshold rounds, b opens dns_failed after failure_threshold
// failed lookups, and neither counts the other's.
func TestRunnerNameStatePerVantage(t *testing.T) {
	f := newRNFixture(t)
	srv1 := testpki.Serve(t, f.pki.TLS(), nil)
	_, port, _ := net.SplitHostPort(srv1.Addr)
	srv2 := testpki.ServeOn(t, "127.0.0.2:"+port, f.pki.TLS(), nil)
	const host = "split.pinwatchd.test"
	dnsA, dnsB := pinwatchdtest.NewDNS(t), pinwatchdtest.NewDNS(t)
	dnsA.Set(host, "127.0.0.1", "127.0.0.2")
	dnsB.Set(host, "127.0.0.1", "127.0.0.2")
	p, _ := strconv.Atoi(port)
	// Pinned to keys the leaf does not have: every answer is a pin_mismatch.
	tg := &pinwatchd.Target{Name: "api", Host: host, SNI: "localhost", Port: p,
		PinSets: []pinwatchd.PinSet{{Name: "inline", Pins: []pinwatchd.Pin{f.spare, {1: 1}}}}}

	pol := pinwatchd.AlertPolicy{FailureThreshold: 3, NotifyResolved: true}
	node := func(vantage string, dns *pinwatchdtest.DNS) *monitor.Runner {
		r := f.runner(pol, nil)
		r.Vantage = vantage
		r.Prober = &monitor.Prober{Timeout: 3 * time.Second, Roots: f.pki.RootPool(), Vantage: vantage,
			Resolver: monitor.NewResolver(netip.MustParseAddrPort(dns.Addr))}
		return r
	}
	ra, rb := node("a", dnsA), node("b", dnsB)
	round := func() {
		t.Helper()
		f.now = f.now.Add(time.Minute)
		for _, r := range []*monitor.Runner{ra, rb} {
			if err := r.Run(t.Context(), tg); err != nil {
				t.Fatalf("Run at %s: %v", r.Vantage, err)
			}
		}
	}
	sites := func(kind pinwatchd.Kind) []pinwatchd.Site {
		t.Helper()
		a, ok := f.alert(kind)
		if !ok || a.State != pinwatchd.AlertOpen {
			return nil
		}
		return a.Sites
	}

	round()
	all := []pinwatchd.Site{{Vantage: "a", Address: srv1.Addr}, {Vantage: "a", Address: srv2.Addr},
		{Vantage: "b", Address: srv1.Addr}, {Vantage: "b", Address: srv2.Addr}}
	if got := sites(pinwatchd.KindPinMismatch); !slices.Equal(got, all) {
		t.Fatalf("pin_mismatch after the first round at %v, want %v", got, all)
	}

	// Two rounds of a answering without 127.0.0.2 and of b failing.
	dnsA.Set(host, "127.0.0.1")
	dnsB.SetMode(pinwatchdtest.DNSServFail)
	round()
	round()
	wantA := map[string]int{srv2.Addr: 2}
	if s, err := f.db.NameState(t.Context(), "api", "a"); err != nil || s.Unresolved != 0 || !maps.Equal(s.Absent, wantA) {
		t.Errorf("stored name state of a = %+v, %v; want %s absent twice and the name never unresolved", s, err, srv2.Addr)
	}
	if s, err := f.db.NameState(t.Context(), "api", "b"); err != nil || s.Unresolved != 2 || len(s.Absent) != 0 {
		t.Errorf("stored name state of b = %+v, %v; want the name unresolved twice", s, err)
	}
	if got := sites(pinwatchd.KindDNSFailed); got != nil {
		t.Fatalf("dns_failed open at %v after two failed lookups at b, want none below failure_threshold 3", got)
	}

	// Both nodes restart; the third round is the third of each count.
	f.reopen()
	ra, rb = node("a", dnsA), node("b", dnsB)
	round()
	want := []pinwatchd.Site{{Vantage: "a", Address: srv1.Addr}, {Vantage: "b", Address: srv1.Addr}, {Vantage: "b", Address: srv2.Addr}}
	if got := sites(pinwatchd.KindPinMismatch); !slices.Equal(got, want) {
		t.Errorf("pin_mismatch after the third round at %v, want %v: a no longer serves %s, b probed nothing", got, want, srv2.Addr)
	}
	dnsSite := []pinwatchd.Site{{Vantage: "b", Address: net.JoinHostPort(host, port)}}
	if got := sites(pinwatchd.KindDNSFailed); !slices.Equal(got, dnsSite) {
		t.Errorf("dns_failed after b's third failed lookup at %v, want %v", got, dnsSite)
	}
}
