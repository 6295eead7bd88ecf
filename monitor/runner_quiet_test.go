package monitor_test

import (
	"context"
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// countingStore is the fixture's database, counting the alert reads made
// outside UpdateAlerts.
type countingStore struct {
	*storage.DB
	reads int
}

func (s *countingStore) OpenAlerts(ctx context.Context, target string) ([]pinwatchd.Alert, error) {
	s.reads++
	return s.DB.OpenAlerts(ctx, target)
}

// A healthy target's rounds do not read its alerts once a round found none
// open (SPEC §11: an unchanged probe costs as little as possible), and the
// skipped read never hides a change: the alert still opens on the round
// that finds the problem, and resolves.
func TestRunnerSkipsAlertReadWhileQuiet(t *testing.T) {
	f := newRNFixture(t)
	s := &countingStore{DB: f.db}
	r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 1, NotifyResolved: true}, nil)
	r.Store = s
	for range 3 {
		f.round(r, f.served(f.pki.Leaf))
	}
	if s.reads != 1 {
		t.Errorf("3 healthy rounds read the alerts %d times, want once (the first round)", s.reads)
	}
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	f.round(r, f.served(rotated)) // the pins no longer match
	if got := describe(f.take()); !slices.Contains(got, "opened pin_mismatch") {
		t.Fatalf("notifications after the rotation %v, want pin_mismatch opened", got)
	}
	f.round(r, f.served(f.pki.Leaf)) // rolled back
	f.round(r, f.served(f.pki.Leaf))
	if got := describe(f.take()); !slices.Contains(got, "resolved pin_mismatch") {
		t.Errorf("notifications after the rollback %v, want pin_mismatch resolved", got)
	}
	if len(f.openAlerts()) != 0 {
		t.Errorf("open alerts after the rollback: %+v", f.openAlerts())
	}
	before := s.reads
	for range 3 {
		f.round(r, f.served(f.pki.Leaf))
	}
	if s.reads != before {
		t.Errorf("healthy rounds after the resolve read the alerts %d more times, want none", s.reads-before)
	}
}
