package daemon

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/storage/backend"
)

// BenchmarkGroupCommitRound10000 records rounds of 10,000 unchanged
// targets (one address each) through the daemon's write path: as many
// callers as the scheduler runs jobs (the default concurrency plus two
// batches of groupMaxRounds) each record one target's round, as a job
// does once its probe returns. "group" goes through the groupRecorder
// (SPEC §11: one transaction per 100 ms, 256 observations or 64 rounds),
// "pertarget" calls Record
// once per target, as the daemon did before; on PostgreSQL, where that
// costs about 10 s a round, run it with -benchtime 2x. A round includes
// the wait of its last batch for its window. Reports ns/obs, obs/s and
// obs/tx (observations per transaction).
func BenchmarkGroupCommitRound10000(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return filepath.Join(b.TempDir(), "pinwatchd.db") }},
		{"postgres", func(b *testing.B) string { return pgtest.Database(b) }},
	}
	for _, be := range backends {
		for _, mode := range []string{"group", "pertarget"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				benchRound(b, be.open(b), mode == "group", 10_000)
			})
		}
	}
}

// txCounter counts the Record calls that reach the database.
type txCounter struct {
	recorder
	n atomic.Int64
}

func (c *txCounter) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	c.n.Add(1)
	return c.recorder.Record(ctx, obs)
}

// recordRound records one round of obs, one observation per target, from
// as many callers as the scheduler runs jobs at the default concurrency,
// and returns once every caller has returned: the last ones wait for
// their commit.
func recordRound(rec interface {
	Record(context.Context, []pinwatchd.Observation) ([]pinwatchd.Event, error)
}, obs []pinwatchd.Observation) error {
	jobs := make(chan int)
	var (
		mu     sync.Mutex
		failed error
		wg     sync.WaitGroup
	)
	for range 16 + 2*groupMaxRounds {
		wg.Go(func() {
			for i := range jobs {
				if evs, err := rec.Record(context.Background(), obs[i:i+1]); err != nil || len(evs) != 0 {
					mu.Lock()
					failed = fmt.Errorf("Record of %s = %d events, %v; want none", obs[i].Target, len(evs), err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range obs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return failed
}

func benchRound(b *testing.B, database string, group bool, targets int) {
	db, err := backend.Open(b.Context(), database, backend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	obs := benchFleet(targets)
	for i := 0; i < len(obs); i += 1000 { // the first round stores everything
		if _, err := db.Record(b.Context(), obs[i:min(i+1000, len(obs))]); err != nil {
			b.Fatal(err)
		}
	}
	counter := &txCounter{recorder: db}
	var rec interface {
		Record(context.Context, []pinwatchd.Observation) ([]pinwatchd.Event, error)
	} = counter
	if group {
		g := newGroupRecorder(counter, slog.New(slog.DiscardHandler))
		g.start(context.WithoutCancel(b.Context()))
		defer g.Close(context.Background())
		rec = g
	}
	t0, round := obs[0].Time, 0
	b.ResetTimer()
	for b.Loop() {
		round++
		for i := range obs {
			obs[i].Time = t0.Add(time.Duration(round) * time.Hour)
		}
		if err := recordRound(rec, obs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perObs := float64(b.Elapsed().Nanoseconds()) / float64(b.N*targets)
	b.ReportMetric(perObs, "ns/obs")
	b.ReportMetric(1e9/perObs, "obs/s")
	b.ReportMetric(float64(b.N*targets)/float64(counter.n.Load()), "obs/tx")
}

// benchFleet is the first round of targets unchanged targets: one address
// each, a leaf of its own under a shared intermediate and root, and a
// Strict-Transport-Security header.
func benchFleet(targets int) []pinwatchd.Observation {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	root := benchCert("bench root", "bench root", at.Add(10*365*24*time.Hour))
	inter := benchCert("bench intermediate", "bench root", at.Add(5*365*24*time.Hour))
	obs := make([]pinwatchd.Observation, targets)
	for i := range obs {
		name := fmt.Sprintf("target-%05d", i)
		leaf := benchCert(name, "bench intermediate", at.Add(90*24*time.Hour))
		obs[i] = pinwatchd.Observation{
			Target: name, Address: fmt.Sprintf("10.%d.%d.%d:443", i>>16&255, i>>8&255, i&255), SNI: name, Time: at,
			TLSVersion: "TLS 1.3", ServedChain: []pinwatchd.Cert{leaf, inter}, VerifiedChain: []pinwatchd.Cert{leaf, inter, root},
			Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true},
			HTTP:         &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
			StrictTransportSecurity: &pinwatchd.HSTSHeader{Raw: "max-age=31536000; includeSubDomains", MaxAge: 31536000,
				IncludeSubDomains: true, Valid: true},
		}
	}
	return obs
}

// benchCert is a certificate with ~900 bytes of random DER and a random
// key pin.
func benchCert(subject, issuer string, notAfter time.Time) pinwatchd.Cert {
	der := make([]byte, 900)
	rand.Read(der)
	sum := sha256.Sum256(der)
	var pin pinwatchd.Pin
	rand.Read(pin[:])
	return pinwatchd.Cert{
		Subject: "CN=" + subject, Issuer: "CN=" + issuer, Serial: hex.EncodeToString(der[:8]),
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter,
		SHA256: hex.EncodeToString(sum[:]), Pin: pin, KeyType: "ECDSA P-256", DER: der,
	}
}
