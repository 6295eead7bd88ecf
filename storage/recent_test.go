package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func TestRecentObservations(t *testing.T) {
	db, _ := openTest(t)
	if got, err := db.RecentObservations(t.Context(), ""); err != nil || len(got) != 0 {
		t.Fatalf("RecentObservations of an empty database = %v, %v; want none", got, err)
	}
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	pkp := &pinwatchd.PinHeader{Raw: "max-age=600; pin-sha256=\"x\"", Pins: []pinwatchd.Pin{c.leaf().Pin, {7}}, MaxAge: 600, Valid: true}
	hsts := &pinwatchd.HSTSHeader{Raw: "max-age=31536000", MaxAge: 31536000, Valid: true}

	api1 := okObs("api", "127.0.0.1:1", t0, c)
	api1.PublicKeyPins, api1.StrictTransportSecurity = pkp, hsts
	api2 := okObs("api", "127.0.0.1:2", t0, c)
	www := okObs("www", "127.0.0.1:3", t0, c)
	www.PublicKeyPins = pkp // the same header value, stored once
	record(t, db, api1, api2, www)
	// api's second address fails twice; a third address never answered.
	record(t, db, failObs("api", "127.0.0.1:2", t0.Add(time.Hour), pinwatchd.KindTimeout, "handshake took longer than 2s"))
	record(t, db, failObs("api", "127.0.0.1:2", t0.Add(2*time.Hour), pinwatchd.KindTimeout, "handshake took longer than 2s"),
		failObs("api", "127.0.0.1:9", t0.Add(2*time.Hour), pinwatchd.KindConnectFailed, "connection refused"))
	api1.Time = t0.Add(2 * time.Hour)
	record(t, db, api1)

	type row struct {
		target, address string
		time            time.Time
		errorKind       pinwatchd.Kind
		chain           int
	}
	summarise := func(obs []pinwatchd.Observation) []row {
		var out []row
		for _, o := range obs {
			r := row{target: o.Target, address: o.Address, time: o.Time, chain: len(o.Chain())}
			if o.Error != nil {
				r.errorKind = o.Error.Kind
			}
			out = append(out, r)
		}
		return out
	}
	all, err := db.RecentObservations(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"api", "127.0.0.1:1", t0.Add(2 * time.Hour), "", 3},
		{"api", "127.0.0.1:2", t0.Add(2 * time.Hour), pinwatchd.KindTimeout, 0}, // the latest, failed
		{"api", "127.0.0.1:2", t0, "", 3},                                       // the last that served a chain
		{"api", "127.0.0.1:9", t0.Add(2 * time.Hour), pinwatchd.KindConnectFailed, 0},
		{"www", "127.0.0.1:3", t0, "", 3},
	}
	if got := summarise(all); !slices.Equal(got, want) {
		t.Errorf("RecentObservations(all):\n got %+v\nwant %+v", got, want)
	}

	o := all[0]
	if len(o.ServedChain) != 2 || len(o.VerifiedChain) != 3 {
		t.Fatalf("api 127.0.0.1:1 chains: %d served, %d verified; want 2 and 3", len(o.ServedChain), len(o.VerifiedChain))
	}
	for i, cert := range o.VerifiedChain {
		w := c.verified[i]
		if cert.SHA256 != w.SHA256 || cert.Subject != w.Subject || cert.Issuer != w.Issuer || cert.Pin != w.Pin ||
			!cert.NotAfter.Equal(w.NotAfter) || cert.IsCA != w.IsCA || cert.KeyType != w.KeyType || cert.Serial != w.Serial {
			t.Errorf("verified chain[%d] = %+v, want %+v", i, cert, w)
		}
		if cert.DER != nil {
			t.Errorf("verified chain[%d] carries its DER; RecentObservations leaves it out", i)
		}
	}
	if h := o.PublicKeyPins; h == nil || h.Raw != pkp.Raw || !slices.Equal(h.Pins, pkp.Pins) || !h.Valid {
		t.Errorf("api Public-Key-Pins = %+v, want %+v", h, pkp)
	}
	if h := o.StrictTransportSecurity; h == nil || h.MaxAge != 31536000 {
		t.Errorf("api Strict-Transport-Security = %+v", h)
	}
	if o.PublicKeyPinsReportOnly != nil {
		t.Errorf("api Public-Key-Pins-Report-Only = %+v, want none", o.PublicKeyPinsReportOnly)
	}
	if all[4].PublicKeyPins == nil || all[4].PublicKeyPins.Raw != pkp.Raw || all[4].StrictTransportSecurity != nil {
		t.Errorf("www headers = %+v / %+v, want the shared Public-Key-Pins and no HSTS", all[4].PublicKeyPins, all[4].StrictTransportSecurity)
	}
	if o.HTTP == nil || o.HTTP.Status != 200 || !o.Verification.Trusted || o.TLSVersion != "TLS 1.3" || o.SNI != "localhost" {
		t.Errorf("api 127.0.0.1:1 = %+v", o)
	}
	if e := all[1].Error; e == nil || e.Message != "handshake took longer than 2s" {
		t.Errorf("api 127.0.0.1:2 error = %+v", e)
	}

	www2, err := db.RecentObservations(t.Context(), "www")
	if err != nil {
		t.Fatal(err)
	}
	if got := summarise(www2); !slices.Equal(got, want[4:]) {
		t.Errorf("RecentObservations(www) = %+v, want %+v", got, want[4:])
	}
	none, err := db.RecentObservations(t.Context(), "nope")
	if err != nil || len(none) != 0 {
		t.Errorf("RecentObservations(nope) = %v, %v; want none", none, err)
	}
}

func TestRecentObservationsReadOnly(t *testing.T) {
	db, path := openTest(t)
	p := testpki.New(t)
	record(t, db, okObs("api", "127.0.0.1:1", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.RecentObservations(t.Context(), "")
	if err != nil || len(got) != 1 || got[0].Leaf() == nil || got[0].Leaf().Pin != p.Leaf.Pin() {
		t.Errorf("RecentObservations on a read-only database = %+v, %v", got, err)
	}
}

// BenchmarkRecentObservations reads the latest observations of a fleet of
// 1,000 targets, one address each, as the dashboard's fleet page does.
func BenchmarkRecentObservations(b *testing.B) {
	db, _ := openTest(b)
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	obs := make([]pinwatchd.Observation, 1000)
	for i := range obs {
		name := fmt.Sprintf("t%04d", i)
		obs[i] = benchObs(name, t0, benchChain(name, t0.Add(90*24*time.Hour), byte(i%250+1), inter, root))
		obs[i].Address = fmt.Sprintf("10.0.%d.%d:443", i/250, i%250)
	}
	record(b, db, obs...)
	b.ReportAllocs()
	for b.Loop() {
		got, err := db.RecentObservations(b.Context(), "")
		if err != nil || len(got) != len(obs) {
			b.Fatalf("RecentObservations = %d observations, %v", len(got), err)
		}
	}
}

// The recorded TLSA RRset comes back with each observation, as it was
// looked up; the DER of a chain comes along only when a record of its
// address's RRset needs it to be matched (not a key pin: 3 0 1 here).
func TestRecentObservationsTLSA(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	// mx2 serves a leaf of its own, so that its chains are its own.
	leaf2 := p.Intermediate.Leaf(t, testpki.Options{})
	c2 := pkiChain(leaf2, p.Intermediate, p.Root)
	byPin := rrset(recA, recB)
	byCert := rrset(recA, "3 0 1 "+fmt.Sprintf("%x", sha256.Sum256(leaf2.Cert.Raw)))
	byCert.Name = "_25._tcp.mx2.example"
	failed := &pinwatchd.TLSAResult{Name: "_25._tcp.mx3.example", Error: "127.0.0.1:53 answered SERVFAIL"}
	record(t, db,
		withTLSA(okObs("mail/mx1.example", "127.0.0.1:1", t0, c), byPin),
		withTLSA(okObs("mail/mx2.example", "127.0.0.1:2", t0, c2), byCert),
		withTLSA(okObs("mail/mx3.example", "127.0.0.1:3", t0, c), failed),
		okObs("www", "127.0.0.1:4", t0, c))
	der := map[string][]byte{}
	for _, cert := range append(c.verified, c2.verified...) {
		der[cert.SHA256] = cert.DER
	}
	for _, target := range []string{"", "mail/mx2.example"} {
		obs, err := db.RecentObservations(t.Context(), target)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range obs {
			var want *pinwatchd.TLSAResult
			switch o.Target {
			case "mail/mx1.example":
				want = byPin
			case "mail/mx2.example":
				want = byCert
			case "mail/mx3.example":
				want = failed
			}
			got, _ := json.Marshal(o.TLSA)
			exp, _ := json.Marshal(want)
			if string(got) != string(exp) {
				t.Errorf("RecentObservations(%q): TLSA of %s = %s, want %s", target, o.Target, got, exp)
			}
			if o.Target == "mail/mx2.example" {
				for i, cert := range o.ServedChain {
					if !bytes.Equal(cert.DER, der[cert.SHA256]) {
						t.Errorf("RecentObservations(%q): served certificate %d of %s lacks its DER, which its 3 0 1 record needs", target, i, o.Target)
					}
				}
			} else if l := o.Leaf(); l != nil && l.DER != nil {
				t.Errorf("RecentObservations(%q): the leaf of %s carries its DER; only a record other than 3 1 1 needs it", target, o.Target)
			}
		}
		if target != "" && (len(obs) != 1 || obs[0].TLSA == nil) {
			t.Errorf("RecentObservations(%q) = %d observations, want 1 with its RRset", target, len(obs))
		}
	}
}

// BenchmarkRecentObservationsDANE is BenchmarkRecentObservations for a
// fleet of 1,000 mail exchanges, each with its own TLSA RRset (3 1 1, the
// key pin: no DER needed).
func BenchmarkRecentObservationsDANE(b *testing.B) {
	db, _ := openTest(b)
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	obs := make([]pinwatchd.Observation, 1000)
	for i := range obs {
		name := fmt.Sprintf("mail/mx%04d.example", i)
		o := benchObs(name, t0, benchChain(name, t0.Add(90*24*time.Hour), byte(i%250+1), inter, root))
		o.Address = fmt.Sprintf("10.0.%d.%d:25", i/250, i%250)
		res := rrset(fmt.Sprintf("3 1 1 %x", o.ServedChain[0].Pin[:]), recB)
		res.Name = fmt.Sprintf("_25._tcp.mx%04d.example", i)
		obs[i] = withTLSA(o, res)
	}
	record(b, db, obs...)
	b.ReportAllocs()
	for b.Loop() {
		got, err := db.RecentObservations(b.Context(), "")
		if err != nil || len(got) != len(obs) || got[0].TLSA == nil {
			b.Fatalf("RecentObservations = %d observations, %v", len(got), err)
		}
	}
}
