package storagetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var queryChecks = []check{
	{"HistoryFilters", checkHistoryFilters},
	{"Certs", checkCerts},
	{"CertsLeftDNS", checkCertsLeftDNS},
	{"LatestObservationsRoundTrip", checkLatestObservationsRoundTrip},
}

func checkHistoryFilters(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	h := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(0), a), okObs("www", "127.0.0.2:443", h(0), a))
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(1), a), failObs("www", "127.0.0.2:443", h(1), pinwatchd.KindTimeout, "i/o timeout"))
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(2), b), okObs("www", "127.0.0.2:443", h(2), a))

	type ev struct {
		Target string
		Event  pinwatchd.EventType
		Time   time.Time
	}
	tests := []struct {
		target string
		since  time.Time
		want   []ev
	}{
		{"", time.Time{}, []ev{
			{"api", pinwatchd.EventFirstSeen, h(0)}, {"www", pinwatchd.EventFirstSeen, h(0)},
			{"www", pinwatchd.EventProbeFailed, h(1)},
			{"api", pinwatchd.EventChainChanged, h(2)}, {"www", pinwatchd.EventRecovered, h(2)},
		}},
		{"api", time.Time{}, []ev{{"api", pinwatchd.EventFirstSeen, h(0)}, {"api", pinwatchd.EventChainChanged, h(2)}}},
		{"www", h(1), []ev{{"www", pinwatchd.EventProbeFailed, h(1)}, {"www", pinwatchd.EventRecovered, h(2)}}},
		{"", h(1).Add(time.Second), []ev{{"api", pinwatchd.EventChainChanged, h(2)}, {"www", pinwatchd.EventRecovered, h(2)}}},
		{"nosuch", time.Time{}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q since %s", tt.target, tt.since.Format(time.TimeOnly)), func(t *testing.T) {
			hist, err := db.Store.History(t.Context(), tt.target, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			var got []ev
			for _, e := range hist {
				got = append(got, ev{e.Target, e.Event, e.Time})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("History = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func checkCerts(t *testing.T, newDB Factory) {
	db := newDB(t)
	root := testpki.NewRoot(t, testpki.Options{})
	// The intermediate expires before the leaf: chain_not_after is its.
	inter := root.Intermediate(t, testpki.Options{NotAfter: t0.Add(20 * 24 * time.Hour)})
	leaf := inter.Leaf(t, testpki.Options{NotAfter: t0.Add(45 * 24 * time.Hour)})
	c := pkiChain(leaf, inter, root)
	h := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(0), c), okObs("api", "[::1]:443", h(0), c),
		failObs("down", "127.0.0.9:443", h(0), pinwatchd.KindConnectFailed, "refused"))
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(1), c), failObs("api", "[::1]:443", h(1), pinwatchd.KindTimeout, "i/o timeout"))
	record(t, db.Store, okObs("api", "127.0.0.1:443", h(2), c), failObs("api", "[::1]:443", h(2), pinwatchd.KindTimeout, "i/o timeout"))

	got, err := db.Store.Certs(t.Context(), h(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := c.leaf()
	base := pinwatchd.CertStatus{
		Target: "api", LeafSubject: l.Subject, Issuer: l.Issuer, LeafPin: l.Pin.String(), LeafSHA256: l.SHA256,
		NotAfter: l.NotAfter, DaysLeft: 44, ChainNotAfter: inter.Cert.NotAfter.UTC(),
	}
	ok, failed := base, base
	ok.Address, ok.LastSeen = "127.0.0.1:443", h(2)
	failed.Address, failed.LastSeen, failed.ErrorKind = "[::1]:443", h(0), pinwatchd.KindTimeout
	// "127..." sorts before "[::1]..."; "down" never served a chain.
	want := []pinwatchd.CertStatus{ok, failed}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Certs =\n%+v\nwant\n%+v", got, want)
	}
}

// An address is current while it belongs to its target's latest round that
// resolved the name, however far apart the probes of one round are; one
// that the latest such round did not probe has left DNS.
func checkCertsLeftDNS(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	h := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	const a, b, name = "127.0.0.1:443", "127.0.0.2:443", "api.example.com:443"
	leftDNS := func(at time.Time) map[string]bool {
		t.Helper()
		got, err := db.Store.Certs(t.Context(), at, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range got {
			out[s.Address] = s.Stale == pinwatchd.StaleLeftDNS
			if s.Stale != "" && s.Stale != pinwatchd.StaleLeftDNS {
				t.Errorf("%s is %s with every target configured", s.Address, s.Stale)
			}
		}
		return out
	}
	check := func(step string, at time.Time, want map[string]bool) {
		t.Helper()
		if got := leftDNS(at); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: LeftDNS per address = %v, want %v", step, got, want)
		}
	}

	// One round whose second probe starts 40 s after the first, then one
	// whose second probe fails: both addresses are current.
	record(t, db.Store, okObs("api", a, h(0), c), okObs("api", b, h(0).Add(40*time.Second), c))
	check("first round", h(0), map[string]bool{a: false, b: false})
	record(t, db.Store, okObs("api", a, h(1).Add(30*time.Second), c), failObs("api", b, h(1), pinwatchd.KindConnectFailed, "refused"))
	check("a failed probe", h(1), map[string]bool{a: false, b: false})
	// The name resolves to a only: b left DNS.
	record(t, db.Store, okObs("api", a, h(2), c))
	check("b no longer resolved", h(2), map[string]bool{a: false, b: true})
	// The name does not resolve at all: nothing says a left.
	record(t, db.Store, failObs("api", name, h(3), pinwatchd.KindDNSFailed, "no such host"))
	check("a DNS failure", h(3), map[string]bool{a: false, b: true})
	// b is back.
	record(t, db.Store, okObs("api", a, h(4), c), okObs("api", b, h(4), c))
	check("b back", h(4), map[string]bool{a: false, b: false})
	// Another target's rounds change nothing for api.
	record(t, db.Store, okObs("www", "127.0.0.3:443", h(5), c))
	check("another target", h(5), map[string]bool{a: false, b: false, "127.0.0.3:443": false})
	// Two rounds within one second (check --record run twice) are two
	// rounds.
	record(t, db.Store, okObs("api", a, h(6).Add(100*time.Millisecond), c), okObs("api", b, h(6).Add(100*time.Millisecond), c))
	record(t, db.Store, okObs("api", a, h(6).Add(700*time.Millisecond), c))
	check("a round in the same second", h(6), map[string]bool{a: false, b: true, "127.0.0.3:443": false})

	// A target no longer configured is stale as such, whatever its
	// addresses.
	got, err := db.Store.Certs(t.Context(), h(6), func(target string) bool { return target == "www" })
	if err != nil {
		t.Fatal(err)
	}
	stale := map[string]pinwatchd.Staleness{}
	for _, s := range got {
		stale[s.Target+" "+s.Address] = s.Stale
	}
	want := map[string]pinwatchd.Staleness{"api " + a: pinwatchd.StaleNotConfigured, "api " + b: pinwatchd.StaleNotConfigured,
		"www 127.0.0.3:443": ""}
	if !reflect.DeepEqual(stale, want) {
		t.Errorf("Certs with only www configured = %v, want %v", stale, want)
	}
}

func checkLatestObservationsRoundTrip(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	o := okObs("api", "127.0.0.1:443", t0, c)
	o.PublicKeyPins = &pinwatchd.PinHeader{Raw: `pin-sha256="x"; max-age=10`, Pins: []pinwatchd.Pin{p.Leaf.Pin()},
		MaxAge: 10, Valid: false, Errors: []string{"one pin only"}, Notes: []string{}}
	o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=60; preload", MaxAge: 60, Preload: true, Valid: true}
	o.Verification = pinwatchd.Verification{Trusted: false, UntrustedReason: "x509: certificate signed by unknown authority",
		HostnameValid: true}
	o.VerifiedChain = nil
	failed := failObs("api", "[::1]:443", t0, pinwatchd.KindConnectFailed, "refused")
	record(t, db.Store, o, failed)
	o.Time = t0.Add(time.Hour)
	record(t, db.Store, o)

	got, err := db.Store.LatestObservations(t.Context(), "api")
	if err != nil {
		t.Fatal(err)
	}
	o.Duration = 0
	want := []pinwatchd.Observation{o, failed}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("LatestObservations =\n%+v\nwant\n%+v", got, want)
	}
	if none, err := db.Store.LatestObservations(t.Context(), "nosuch"); err != nil || len(none) != 0 {
		t.Errorf("LatestObservations(nosuch) = %v, %v; want none", none, err)
	}
}
