package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

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
