package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
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
