package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// BenchmarkRound measures recording a round of targets unchanged targets
// (SPEC §11: 10,000 on PostgreSQL at 2,000 observations/s or more), one
// address each, batch observations per transaction (Record call): the
// whole round at once, the daemon's group commit (256), or one target at a
// time as the runner records today. Each target serves its own leaf under
// a shared intermediate and root, with a Strict-Transport-Security header,
// like the storage package's other benchmarks. The first round, which
// stores everything once, is not measured. It reports obs/s and ns/obs.
func BenchmarkRound(b *testing.B, newDB Factory, targets, batch int) {
	db := newDB(b)
	obs := benchFleet(targets)
	record(b, db.Store, obs...)
	round := 0
	b.ResetTimer()
	for b.Loop() {
		round++
		for i := range obs {
			obs[i].Time = t0.Add(time.Duration(round) * time.Hour)
		}
		for i := 0; i < len(obs); i += batch {
			if evs, err := db.Store.Record(b.Context(), obs[i:min(i+batch, len(obs))]); err != nil || len(evs) != 0 {
				b.Fatalf("Record = %d events, %v; want none", len(evs), err)
			}
		}
	}
	b.StopTimer()
	if n := countRows(b, db, "spans"); n != targets {
		b.Fatalf("%d spans after %d unchanged rounds of %d targets", n, round, targets)
	}
	perObs := float64(b.Elapsed().Nanoseconds()) / float64(b.N*targets)
	b.ReportMetric(perObs, "ns/obs")
	b.ReportMetric(1e9/perObs, "obs/s")
}

// BenchmarkGrowth records rounds × targets unchanged probes, one
// transaction per round, after a first round and a first extension of
// every span, and reports how many bytes of table data (Database.Size:
// the file on SQLite, tables, indexes and TOAST on PostgreSQL) they add:
// the database grows with changes, not with probes (SPEC §9, §11: under
// 1 MiB for 1,000,000 probes). Run it with -benchtime=1x.
func BenchmarkGrowth(b *testing.B, newDB Factory, targets, rounds int) {
	obs := benchFleet(targets)
	for b.Loop() {
		db := newDB(b)
		for i := range obs {
			obs[i].Time = t0
		}
		record(b, db.Store, obs...)
		record(b, db.Store, obs...) // the first extension of every span
		before := db.Size(b)
		for r := 1; r <= rounds; r++ {
			for i := range obs {
				obs[i].Time = t0.Add(time.Duration(r) * time.Hour)
			}
			if evs, err := db.Store.Record(b.Context(), obs); err != nil || len(evs) != 0 {
				b.Fatalf("round %d: Record = %d events, %v; want none", r, len(evs), err)
			}
		}
		if n := countRows(b, db, "spans"); n != targets {
			b.Fatalf("%d spans after %d unchanged rounds of %d targets", n, rounds, targets)
		}
		b.ReportMetric(float64(db.Size(b)-before), "growth-bytes")
		b.ReportMetric(float64(before), "first-round-bytes")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*targets*rounds), "ns/probe")
}

// benchFleet returns one unchanged observation per target, at t0: one
// address each, a leaf per target under a shared intermediate and root, a
// Strict-Transport-Security header, recorded from one vantage as the
// daemon records them.
func benchFleet(targets int) []pinwatchd.Observation {
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	obs := make([]pinwatchd.Observation, targets)
	for i := range obs {
		name := fmt.Sprintf("target-%05d", i)
		leaf := fakeCert(name, "bench intermediate", t0.Add(90*24*time.Hour), byte(i%250+1))
		obs[i] = okObs(name, fmt.Sprintf("10.%d.%d.%d:443", i>>16&255, i>>8&255, i&255), t0,
			chain{served: []pinwatchd.Cert{leaf, inter}, verified: []pinwatchd.Cert{leaf, inter, root}})
		obs[i].StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=31536000; includeSubDomains",
			MaxAge: 31536000, IncludeSubDomains: true, Valid: true}
		obs[i].Vantage = "eu-west-1"
	}
	return obs
}
