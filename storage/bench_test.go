package storage

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// historyYear is the database BenchmarkHistoryYear builds once per process.
var historyYear struct {
	once   sync.Once
	dir    string
	path   string
	events int
	err    error
}

// yearDB names where to keep the year of history and alerts the benchmarks
// built, for timing the query commands as whole processes (make bench).
var yearDB = flag.String("year-db", "", "copy the database of BenchmarkAlertsYear to this `file`")

func TestMain(m *testing.M) {
	code := m.Run()
	if *yearDB != "" && code == 0 {
		if alertsYear.path == "" {
			fmt.Fprintln(os.Stderr, "-year-db: BenchmarkAlertsYear did not run (add -bench AlertsYear)")
			code = 1
		} else if err := copyFile(alertsYear.path, *yearDB); err != nil {
			fmt.Fprintf(os.Stderr, "-year-db: %v\n", err)
			code = 1
		}
	}
	if historyYear.dir != "" {
		os.RemoveAll(historyYear.dir)
	}
	os.Exit(code)
}

// benchChain is a realistic chain of fake certificates: a leaf with the
// given key, an intermediate and a root, each with ~900 bytes of DER.
func benchChain(name string, notAfter time.Time, key byte, inter, root pinwatchd.Cert) chain {
	leaf := fakeCert(name, "bench intermediate", notAfter, key)
	return chain{served: []pinwatchd.Cert{leaf, inter}, verified: []pinwatchd.Cert{leaf, inter, root}}
}

func benchObs(target string, at time.Time, c chain) pinwatchd.Observation {
	o := okObs(target, "192.0.2.1:443", at, c)
	o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=31536000; includeSubDomains", MaxAge: 31536000,
		IncludeSubDomains: true, Valid: true}
	return o
}

// BenchmarkRecordUnchanged records an observation equal to the latest one of
// its address: the common case, which only moves a span's last_seen. One
// observation per transaction ("single") and 1,000 per transaction
// ("batch1000", ns/op per observation), as the daemon batches a round.
func BenchmarkRecordUnchanged(b *testing.B) {
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	b.Run("single", func(b *testing.B) {
		db, _ := openTest(b)
		o := benchObs("api", t0, benchChain("api", t0.Add(90*24*time.Hour), 1, inter, root))
		record(b, db, o)
		obs := []pinwatchd.Observation{o}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			obs[0].Time = t0.Add(time.Duration(i) * time.Minute)
			if _, err := db.Record(b.Context(), obs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batch1000", func(b *testing.B) {
		db, _ := openTest(b)
		obs := make([]pinwatchd.Observation, 1000)
		for j := range obs {
			obs[j] = benchObs(fmt.Sprintf("t%04d", j), t0, benchChain(fmt.Sprintf("t%04d", j), t0.Add(90*24*time.Hour), byte(j%250+1), inter, root))
		}
		record(b, db, obs...)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o := &obs[i%len(obs)]
			o.Time = o.Time.Add(time.Minute)
			if i%len(obs) == len(obs)-1 || i == b.N-1 {
				if _, err := db.Record(b.Context(), obs[:i%len(obs)+1]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkGrowthMillionProbes records 1,000,000 unchanged probes (1,000
// targets × 1,000 rounds, one transaction per round) and reports how many
// bytes they add to the database file once closed (SPEC §11: under 1 MiB).
// Run it with -benchtime=1x.
func BenchmarkGrowthMillionProbes(b *testing.B) {
	const targets, rounds = 1000, 1000
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	obs := make([]pinwatchd.Observation, targets)
	for j := range obs {
		name := fmt.Sprintf("target-%04d", j)
		obs[j] = benchObs(name, t0, benchChain(name, t0.Add(90*24*time.Hour), byte(j%250+1), inter, root))
	}
	for range b.N {
		path := filepath.Join(b.TempDir(), "growth.db")
		db, err := Open(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		for j := range obs {
			obs[j].Time = t0
		}
		record(b, db, obs...) // the first round stores everything once
		db.Close()
		before := fileSize(b, path)
		if db, err = Open(b.Context(), path); err != nil {
			b.Fatal(err)
		}
		for r := 1; r <= rounds; r++ {
			for j := range obs {
				obs[j].Time = t0.Add(time.Duration(r) * time.Hour)
			}
			if _, err := db.Record(b.Context(), obs); err != nil {
				b.Fatal(err)
			}
		}
		if n := countRows(b, db, "spans"); n != targets {
			b.Fatalf("%d spans after %d unchanged rounds of %d targets", n, rounds, targets)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		after := fileSize(b, path)
		b.ReportMetric(float64(after-before), "growth-bytes")
		b.ReportMetric(float64(before), "first-round-bytes")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*targets*rounds), "ns/probe")
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkHistoryYear measures History on a year of hourly probes of 1,000
// targets (SPEC §11: under 50 ms). Every target renews its certificate every
// 60 days (every third renewal with a new key) and fails twice for three
// hours. The database is built once per process through Record; each run of
// unchanged hours is recorded at its first and last hour, which stores
// exactly what hourly probing stores, and probe_count is then set to the
// hourly count.
func BenchmarkHistoryYear(b *testing.B) {
	historyYear.once.Do(func() { historyYear.err = buildHistoryYear(b.Context()) })
	if historyYear.err != nil {
		b.Fatal(historyYear.err)
	}
	db, err := OpenReadOnly(b.Context(), historyYear.path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(historyYear.path)
	if err != nil {
		b.Fatal(err)
	}
	size := fi.Size()
	end := t0.Add(365 * 24 * time.Hour)
	for _, c := range []struct {
		name   string
		target string
		since  time.Time
	}{
		{"all-targets-whole-year", "", time.Time{}},
		{"all-targets-last-30-days", "", end.Add(-30 * 24 * time.Hour)},
		{"one-target-whole-year", "target-0500", time.Time{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				evs, err := db.History(b.Context(), c.target, c.since)
				if err != nil {
					b.Fatal(err)
				}
				n = len(evs)
			}
			if c.target == "" && c.since.IsZero() && n != historyYear.events {
				b.Fatalf("History returned %d events, Record derived %d", n, historyYear.events)
			}
			b.ReportMetric(float64(n), "events")
			b.ReportMetric(float64(size), "db-bytes")
			// CPU time is steadier than wall time on a busy machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// yearTarget is the simulated state of one target in buildHistoryYear.
type yearTarget struct {
	name    string
	key     byte
	renewal int    // hours after the start of the first renewal; then every 60 days
	failAt  [2]int // hours at which a three-hour outage starts
	cur     chain
}

func (t *yearTarget) failing(h int) bool {
	return (h >= t.failAt[0] && h < t.failAt[0]+3) || (h >= t.failAt[1] && h < t.failAt[1]+3)
}

func (t *yearTarget) renews(h int) (n int, ok bool) {
	const every = 60 * 24
	if h <= 0 || h < t.renewal || (h-t.renewal)%every != 0 {
		return 0, false
	}
	return (h-t.renewal)/every + 1, true
}

// buildHistoryYear writes the database of BenchmarkHistoryYear in the order
// the daemon would: hour by hour, all targets in each round.
// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func buildHistoryYear(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "pinwatchd-history-year-")
	if err != nil {
		return err
	}
	historyYear.dir, historyYear.path = dir, filepath.Join(dir, "year.db")
	db, err := Open(ctx, historyYear.path)
	if err != nil {
		return err
	}
	defer db.Close()
	const targets, hours = 1000, 365 * 24
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	ts := make([]*yearTarget, targets)
	for j := range ts {
		t := &yearTarget{name: fmt.Sprintf("target-%04d", j), key: byte(j%250 + 1), renewal: j * 7 % (60 * 24),
			failAt: [2]int{(j*131)%(hours-10) + 1, (j*977)%(hours-10) + 1}}
		t.cur = benchChain(t.name, at(90*24), t.key, inter, root)
		ts[j] = t
	}
	var batch []pinwatchd.Observation
	for h := range hours {
		for _, t := range ts {
			if n, ok := t.renews(h); ok {
				if n%3 == 0 { // every third renewal comes with a new key
					t.key = byte((int(t.key)+n)%250 + 1)
				}
				t.cur = benchChain(t.name, at(h+90*24), t.key, inter, root)
			}
			// Record the first and the last hour of every stable run; the
			// hours between would only move last_seen.
			failing := t.failing(h)
			_, renewNext := t.renews(h + 1)
			_, renewed := t.renews(h)
			if h == 0 || h == hours-1 || renewed || renewNext || failing != t.failing(h-1) || failing != t.failing(h+1) {
				if failing {
					batch = append(batch, failObs(t.name, "192.0.2.1:443", at(h), pinwatchd.KindTimeout, "i/o timeout"))
				} else {
					batch = append(batch, benchObs(t.name, at(h), t.cur))
				}
			}
		}
		if len(batch) >= 1000 || h == hours-1 {
			evs, err := db.Record(ctx, batch)
			if err != nil {
				return err
			}
			historyYear.events += len(evs)
			batch = batch[:0]
		}
	}
	_, err = db.write.ExecContext(ctx, `UPDATE spans SET probe_count = (last_seen - first_seen) / 3600 + 1`)
	return err
}

// BenchmarkCertsYear measures Certs on the database of BenchmarkHistoryYear.
func BenchmarkCertsYear(b *testing.B) {
	historyYear.once.Do(func() { historyYear.err = buildHistoryYear(b.Context()) })
	if historyYear.err != nil {
		b.Fatal(historyYear.err)
	}
	db, err := OpenReadOnly(b.Context(), historyYear.path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	n := 0
	for b.Loop() {
		certs, err := db.Certs(b.Context(), t0.Add(365*24*time.Hour), nil)
		if err != nil {
			b.Fatal(err)
		}
		n = len(certs)
	}
	if n != 1000 {
		b.Fatalf("Certs returned %d addresses, want 1000", n)
	}
}
