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
