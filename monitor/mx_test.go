package monitor_test

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// A round of an mx target probes each exchange as "NAME/EXCHANGE"; a
// failed MX lookup opens dns_failed about "mx" after failure_threshold
// rounds and touches no exchange; an exchange that leaves the MX set has
// its alerts resolved with the reason.
func TestRunnerMX(t *testing.T) {
	f := newRNFixture(t)
	leaf := f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: "mx1.example.test", DNSNames: []string{"mx1.example.test", "mx2.example.test"}})
	srv := testpki.ServeMail(t, "smtp", testpki.Chain(leaf, f.pki.Intermediate))
	ap := netip.MustParseAddrPort(srv.Addr)
	srv2 := testpki.ServeMailOn(t, "127.0.0.2:"+strconv.Itoa(int(ap.Port())), "smtp", testpki.Chain(leaf, f.pki.Intermediate))
	dns := pinwatchdtest.NewDNS(t)
	dns.Set("mx1.example.test", "127.0.0.1")
	dns.Set("mx2.example.test", "127.0.0.2")
	dns.SetMX("example.test", pinwatchdtest.MX{Preference: 10, Host: "mx1.example.test"}, pinwatchdtest.MX{Preference: 20, Host: "mx2.example.test"})
	// Records for another key only: every exchange is a tlsa_mismatch.
	rec := "3 1 1 " + hex.EncodeToString(f.spare[:])
	dns.SetTLSA("_"+strconv.Itoa(int(ap.Port()))+"._tcp.mx1.example.test", true, rec)
	dns.SetTLSA("_"+strconv.Itoa(int(ap.Port()))+"._tcp.mx2.example.test", true, rec)

	r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}, nil)
	r.Prober = &monitor.Prober{Timeout: 3 * time.Second, Roots: f.pki.RootPool(), DNSServer: netip.MustParseAddrPort(dns.Addr),
		Resolver: monitor.NewResolver(netip.MustParseAddrPort(dns.Addr))}
	tg := &pinwatchd.Target{Name: "mail", MX: "example.test", Port: int(ap.Port()), STARTTLS: pinwatchd.ProtocolSMTP, DANE: true}
	run := func() {
		t.Helper()
		if err := r.Run(t.Context(), tg); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	open := func(target string) []pinwatchd.Alert {
		t.Helper()
		as, err := f.db.OpenAlerts(t.Context(), target)
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	run()
	for _, sub := range []string{"mail/mx1.example.test", "mail/mx2.example.test"} {
		if as := open(sub); len(as) != 1 || as[0].Kind != pinwatchd.KindTLSAMismatch {
			t.Fatalf("alerts of %s: %+v, want one tlsa_mismatch", sub, as)
		}
	}
	if as := open("mail/mx2.example.test"); as[0].Addresses[0] != srv2.Addr {
		t.Errorf("mx2's alert lists %v, want %s", as[0].Addresses, srv2.Addr)
	}

	dns.SetMX("example.test", pinwatchdtest.MX{Preference: 0, Host: "."})
	run()
	if as := open("mail"); len(as) != 0 {
		t.Fatalf("after one failed MX lookup: %+v, want no alert before failure_threshold", as)
	}
	run()
	if as := open("mail"); len(as) != 1 || as[0].Kind != pinwatchd.KindDNSFailed || as[0].Subject != monitor.SubjectMX {
		t.Fatalf("after two failed MX lookups: %+v, want dns_failed about mx", as)
	}
	if as := open("mail/mx2.example.test"); len(as) != 1 {
		t.Fatalf("a failed MX lookup changed the exchanges' alerts: %+v", as)
	}

	dns.SetMX("example.test", pinwatchdtest.MX{Preference: 10, Host: "mx1.example.test"})
	run()
	if as := open("mail"); len(as) != 0 {
		t.Errorf("dns_failed still open after the MX lookup answered: %+v", as)
	}
	if as := open("mail/mx2.example.test"); len(as) != 0 {
		t.Fatalf("the alerts of mx2, no longer an MX, are still open: %+v", as)
	}
	all, err := f.db.Alerts(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Target == "mail/mx2.example.test" && a.ResolveReason != "no longer an MX of example.test" {
			t.Errorf("mx2's alert resolved with %q", a.ResolveReason)
		}
	}
	if as := open("mail/mx1.example.test"); len(as) != 1 {
		t.Errorf("mx1's alerts: %+v, want its tlsa_mismatch still open", as)
	}
}

// The MX lookup's failures are counted per vantage: a node whose resolver
// fails counts towards failure_threshold while another node's answers,
// without the answering node resetting the failing one's count.
func TestRunnerMXFailuresPerVantage(t *testing.T) {
	f := newRNFixture(t)
	leaf := f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: "mx1.example.test", DNSNames: []string{"mx1.example.test"}})
	srv := testpki.ServeMail(t, "smtp", testpki.Chain(leaf, f.pki.Intermediate))
	ap := netip.MustParseAddrPort(srv.Addr)
	dnsA, dnsB := pinwatchdtest.NewDNS(t), pinwatchdtest.NewDNS(t)
	dnsA.SetMode(pinwatchdtest.DNSServFail)
	dnsB.Set("mx1.example.test", "127.0.0.1")
	dnsB.SetMX("example.test", pinwatchdtest.MX{Preference: 10, Host: "mx1.example.test"})
	tg := &pinwatchd.Target{Name: "mail", MX: "example.test", Port: int(ap.Port()), STARTTLS: pinwatchd.ProtocolSMTP}

	node := func(vantage string, dns *pinwatchdtest.DNS) *monitor.Runner {
		r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}, nil)
		r.Vantage = vantage
		r.Prober = &monitor.Prober{Timeout: 3 * time.Second, Roots: f.pki.RootPool(), Vantage: vantage,
			DNSServer: netip.MustParseAddrPort(dns.Addr), Resolver: monitor.NewResolver(netip.MustParseAddrPort(dns.Addr))}
		return r
	}
	round := func(rs ...*monitor.Runner) {
		t.Helper()
		for _, r := range rs {
			if err := r.Run(t.Context(), tg); err != nil {
				t.Fatalf("Run at %s: %v", r.Vantage, err)
			}
		}
	}
	round(node("a", dnsA), node("b", dnsB))
	if s, err := f.db.NameState(t.Context(), "mail", "a"); err != nil || s.Unresolved != 1 {
		t.Errorf("stored name state of mail at a = %+v, %v; want the MX lookup failed once", s, err)
	}
	if as, err := f.db.OpenAlerts(t.Context(), "mail"); err != nil || len(as) != 0 {
		t.Fatalf("after one failed MX lookup at a: %+v, %v; want no alert below failure_threshold", as, err)
	}

	// After a restart of both, a's second failure in a row opens dns_failed,
	// whichever node runs first.
	f.reopen()
	round(node("b", dnsB), node("a", dnsA))
	as, err := f.db.OpenAlerts(t.Context(), "mail")
	if err != nil || len(as) != 1 || as[0].Kind != pinwatchd.KindDNSFailed {
		t.Fatalf("after two failed MX lookups at a: %+v, %v; want dns_failed", as, err)
	}
	for _, s := range as[0].Sites {
		if s.Vantage != "a" {
			t.Errorf("dns_failed lists %+v: only a failed to look the MX records up", s)
		}
	}
}
