package monitor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// errCrash stands for whatever stops a round between two writes: a crash,
// a reload cancelling it, a database busy for longer than its timeout.
var errCrash = errors.New("the process died here")

// crashingStore is a Store whose method named by failOnce fails once,
// before touching the database, as if the process had stopped there.
type crashingStore struct {
	monitor.Store
	failOnce string
}

func (s *crashingStore) crash(method string) bool {
	if s.failOnce == method {
		s.failOnce = ""
		return true
	}
	return false
}

func (s *crashingStore) UpdateAlerts(ctx context.Context, target string, fn func([]pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error)) error {
	if s.crash("UpdateAlerts") {
		return errCrash
	}
	return s.Store.UpdateAlerts(ctx, target, fn)
}

func (s *crashingStore) PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error) {
	if s.crash("PendingEvents") {
		return nil, errCrash
	}
	return s.Store.PendingEvents(ctx, target)
}

func (s *crashingStore) AnnounceEvents(ctx context.Context, ids []int64, notes []pinwatchd.Notification) (int, error) {
	if s.crash("AnnounceEvents") {
		return 0, errCrash
	}
	return s.Store.AnnounceEvents(ctx, ids, notes)
}

// countChanges returns how many of ns announce a chain change of class.
func countChanges(ns []pinwatchd.Notification, class pinwatchd.ChangeClass) int {
	n := 0
	for _, x := range ns {
		if x.Type == pinwatchd.ChangeChainChanged && x.Event != nil && x.Event.Class == class {
			n++
		}
	}
	return n
}

// A round that records a key rotation and stops before announcing it (at
// each of the writes that follow Record): the daemon started again on the
// same database announces the rotation at its next round, once, and never
// again across further rounds and restarts.
func TestRunnerAnnouncesChangeAfterCrash(t *testing.T) {
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true, NotifyChanges: true}
	for _, step := range []string{"UpdateAlerts", "PendingEvents", "AnnounceEvents"} {
		t.Run("crash at "+step, func(t *testing.T) {
			f := newRNFixture(t)
			f.round(f.runner(pol, nil), f.served(f.pki.Leaf))
			f.take()

			rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
			crashing := f.runner(pol, nil)
			crashing.Store = &crashingStore{Store: f.db, failOnce: step}
			f.now = f.now.Add(time.Minute)
			obs := f.served(rotated)
			if err := crashing.Process(t.Context(), f.target(), []pinwatchd.Observation{obs}); !errors.Is(err, errCrash) {
				t.Fatalf("Process with %s failing = %v, want the injected failure", step, err)
			}
			ns := f.take()
			if n := countChanges(ns, pinwatchd.ChangeKeyRotated); n != 0 {
				t.Fatalf("the interrupted round announced the rotation: %v", describe(ns))
			}
			alertNotes := len(ns) // the pin_mismatch opening, unless SaveAlerts failed

			// Restart: a new Runner on the reopened file, the same chain
			// served (so no new event is recorded).
			f.reopen()
			enqueued := 0
			f.round(f.runner(pol, &enqueued), f.served(rotated))
			ns = f.take()
			if n := countChanges(ns, pinwatchd.ChangeKeyRotated); n != 1 {
				t.Fatalf("the round after the restart gave %v, want the key rotation announced once", describe(ns))
			}
			want := []string{"chain_changed key_rotated"}
			if alertNotes == 0 {
				want = []string{"opened pin_mismatch", "chain_changed key_rotated"}
			}
			if got := describe(ns); !slices.Equal(got, want) {
				t.Errorf("notifications after the restart %v, want %v", got, want)
			}
			if enqueued != len(want) {
				t.Errorf("Enqueued hook reported %d notifications, want %d", enqueued, len(want))
			}
			var ev *pinwatchd.Event
			for _, n := range ns {
				if n.Event != nil {
					ev = n.Event
				}
			}
			if ev.OldLeafPin != f.pki.Leaf.Pin().String() || ev.NewLeafPin != rotated.Pin().String() || ev.Address != rnAddr {
				t.Errorf("announced %+v, want %s → %s at %s", ev, f.pki.Leaf.Pin(), rotated.Pin(), rnAddr)
			}

			r := f.runner(pol, nil)
			f.round(r, f.served(rotated))
			f.reopen()
			f.round(f.runner(pol, nil), f.served(rotated))
			if ns := f.take(); len(ns) != 0 {
				t.Errorf("later rounds and a restart announced %v, want nothing", describe(ns))
			}
		})
	}
}

// Events recorded by someone else (`check --record` writes with Record
// only) are announced at the daemon's next round of the target, exactly
// once; with notify_changes off they are marked without a notification and
// stay unannounced when it is turned on again.
func TestRunnerAnnouncesRecordedChanges(t *testing.T) {
	for _, notify := range []bool{true, false} {
		name := "notify_changes"
		if !notify {
			name = "quiet"
		}
		t.Run(name, func(t *testing.T) {
			f := newRNFixture(t)
			pol := pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true, NotifyChanges: notify}
			// Two rotations recorded as `check --record` does, before any
			// daemon round: the first leaf is pinned, so are the others
			// (no alert in the way).
			second, third := f.pki.Intermediate.Leaf(t, testpki.Options{}), f.pki.Intermediate.Leaf(t, testpki.Options{})
			tgt := f.target()
			tgt.PinSets[0].Pins = append(tgt.PinSets[0].Pins, second.Pin(), third.Pin())
			for _, leaf := range []*testpki.Cert{f.pki.Leaf, second, third} {
				f.now = f.now.Add(time.Minute)
				if _, err := f.db.Record(t.Context(), []pinwatchd.Observation{f.served(leaf)}); err != nil {
					t.Fatal(err)
				}
			}
			if ns := f.take(); len(ns) != 0 {
				t.Fatalf("Record alone enqueued %v", describe(ns))
			}

			process := func(r *monitor.Runner) {
				t.Helper()
				f.now = f.now.Add(time.Minute)
				if err := r.Process(t.Context(), tgt, []pinwatchd.Observation{f.served(third)}); err != nil {
					t.Fatal(err)
				}
			}
			process(f.runner(pol, nil))
			ns := f.take()
			want := []string{"chain_changed key_rotated", "chain_changed key_rotated"}
			if !notify {
				want = []string{}
			}
			if got := describe(ns); !slices.Equal(got, want) {
				t.Fatalf("the daemon's first round announced %v, want %v", got, want)
			}
			if notify && (ns[0].Event.NewLeafPin != second.Pin().String() || ns[1].Event.NewLeafPin != third.Pin().String()) {
				t.Errorf("announced %+v then %+v, want the rotations in the order they happened", ns[0].Event, ns[1].Event)
			}
			pol.NotifyChanges = true
			process(f.runner(pol, nil))
			f.reopen()
			process(f.runner(pol, nil))
			if ns := f.take(); len(ns) != 0 {
				t.Errorf("later rounds announced %v, want nothing", describe(ns))
			}
		})
	}
}
