package monitor_test

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
)

// rnAddr is the one address of the runner tests' target.
const rnAddr = "127.0.0.1:8443"

// rnFixture is a database file, a certificate hierarchy and a clock shared
// by the Runners of one test, so that a "restart" is a new Runner on the
// reopened file.
type rnFixture struct {
	t     *testing.T
	path  string
	db    *storage.DB
	pki   *testpki.PKI
	spare pinwatchd.Pin
	now   time.Time
}

func newRNFixture(t *testing.T) *rnFixture {
	t.Helper()
	p := testpki.New(t)
	f := &rnFixture{t: t, path: filepath.Join(t.TempDir(), "pinwatchd.db"), pki: p,
		spare: testpki.KeyPin(t, p.Spare), now: time.Now().UTC().Truncate(time.Second)}
	f.reopen()
	t.Cleanup(func() { f.db.Close() })
	return f
}

// reopen closes the database and opens the file again, as a restarted
// daemon does.
func (f *rnFixture) reopen() {
	f.t.Helper()
	if f.db != nil {
		if err := f.db.Close(); err != nil {
			f.t.Fatalf("close database: %v", err)
		}
	}
	db, err := storage.Open(f.t.Context(), f.path)
	if err != nil {
		f.t.Fatalf("open database %s: %v", f.path, err)
	}
	f.db = db
}

// runner returns a new Runner over the fixture's database and clock;
// enqueued counts the notifications its Enqueued hook reported.
func (f *rnFixture) runner(pol pinwatchd.AlertPolicy, enqueued *int) *monitor.Runner {
	return &monitor.Runner{
		Store: f.db, Log: slog.New(slog.DiscardHandler), Policy: pol,
		Thresholds: pinwatchd.DefaultThresholds, Now: func() time.Time { return f.now },
		Hooks: monitor.Hooks{Enqueued: func(n int) {
			if enqueued != nil {
				*enqueued += n
			}
		}},
	}
}

// target is pinned to the fixture's leaf key with the spare key as backup.
func (f *rnFixture) target() *pinwatchd.Target {
	return &pinwatchd.Target{Name: "api", Host: "localhost", Port: 8443, Addresses: []string{rnAddr},
		PinSets: []pinwatchd.PinSet{{Name: "inline", Pins: []pinwatchd.Pin{f.pki.Leaf.Pin(), f.spare}}}}
}

// served is a successful observation at the fixture's clock of a chain
// leaf → intermediate, verified up to the root.
func (f *rnFixture) served(leaf *testpki.Cert) pinwatchd.Observation {
	l := pinwatchd.CertFromX509(leaf.Cert)
	i := pinwatchd.CertFromX509(f.pki.Intermediate.Cert)
	r := pinwatchd.CertFromX509(f.pki.Root.Cert)
	return pinwatchd.Observation{Target: "api", Address: rnAddr, SNI: "localhost", Time: f.now, TLSVersion: "TLS 1.3",
		ServedChain: []pinwatchd.Cert{l, i}, VerifiedChain: []pinwatchd.Cert{l, i, r},
		Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true}}
}

// refused is a failed observation at the fixture's clock.
func (f *rnFixture) refused() pinwatchd.Observation {
	return pinwatchd.Observation{Target: "api", Address: rnAddr, SNI: "localhost", Time: f.now,
		Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindConnectFailed, Message: "connection refused"}}
}

// round advances the clock by a minute and processes obs with r.
func (f *rnFixture) round(r *monitor.Runner, obs ...pinwatchd.Observation) {
	f.t.Helper()
	f.now = f.now.Add(time.Minute)
	for i := range obs {
		obs[i].Time = f.now
	}
	if err := r.Process(f.t.Context(), f.target(), obs); err != nil {
		f.t.Fatalf("Process: %v", err)
	}
}

// take returns the notifications waiting in the outbox and marks them
// delivered, so that the next call sees only what came after.
func (f *rnFixture) take() []pinwatchd.Notification {
	f.t.Helper()
	ns, err := f.db.Pending(f.t.Context(), f.now.Add(time.Hour), 100)
	if err != nil {
		f.t.Fatalf("Pending: %v", err)
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	if err := f.db.Delivered(f.t.Context(), ids...); err != nil {
		f.t.Fatalf("Delivered: %v", err)
	}
	return ns
}

// openAlerts returns the target's open alerts from the database.
func (f *rnFixture) openAlerts() []pinwatchd.Alert {
	f.t.Helper()
	as, err := f.db.OpenAlerts(f.t.Context(), "api")
	if err != nil {
		f.t.Fatalf("OpenAlerts: %v", err)
	}
	return as
}

// describe lists notifications as "type kind" for messages.
func describe(ns []pinwatchd.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		switch {
		case n.Alert != nil:
			out[i] = string(n.Type) + " " + string(n.Alert.Kind)
		case n.Event != nil:
			out[i] = string(n.Type) + " " + string(n.Event.Class)
		default:
			out[i] = string(n.Type)
		}
	}
	return out
}

func TestRunnerFailureThreshold(t *testing.T) {
	f := newRNFixture(t)
	enqueued := 0
	r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}, &enqueued)

	f.round(r, f.served(f.pki.Leaf))
	f.round(r, f.refused())
	if as, ns := f.openAlerts(), f.take(); len(as) != 0 || len(ns) != 0 {
		t.Fatalf("after one failure: alerts %+v, notifications %v; want none below the threshold", as, describe(ns))
	}
	// A success in between starts the count again.
	f.round(r, f.served(f.pki.Leaf))
	f.round(r, f.refused())
	if as := f.openAlerts(); len(as) != 0 {
		t.Fatalf("failures that were not consecutive opened %+v", as)
	}

	f.round(r, f.refused())
	as := f.openAlerts()
	if len(as) != 1 || as[0].Kind != pinwatchd.KindConnectFailed || as[0].Subject != rnAddr || !slices.Equal(as[0].Addresses, []string{rnAddr}) {
		t.Fatalf("after two failures in a row: alerts %+v, want one connect_failed about %s", as, rnAddr)
	}
	ns := f.take()
	if len(ns) != 1 || ns[0].Type != pinwatchd.ChangeOpened || ns[0].Alert == nil {
		t.Fatalf("notifications %v, want one opened", describe(ns))
	}
	if got := ns[0].Alert; got.ID != as[0].ID || got.Kind != pinwatchd.KindConnectFailed || got.Target != "api" || !ns[0].CreatedAt.Equal(f.now) {
		t.Errorf("opened notification carries alert %d %s of %q at %s; want alert %d connect_failed of api at %s",
			got.ID, got.Kind, got.Target, ns[0].CreatedAt, as[0].ID, f.now)
	}
	if enqueued != 1 {
		t.Errorf("Enqueued hook reported %d notifications, want 1", enqueued)
	}

	f.round(r, f.refused())
	if ns := f.take(); len(ns) != 0 {
		t.Errorf("a still-failing address notified %v", describe(ns))
	}
	f.round(r, f.served(f.pki.Leaf))
	if as := f.openAlerts(); len(as) != 0 {
		t.Errorf("one success left %+v open", as)
	}
	ns = f.take()
	if len(ns) != 1 || ns[0].Type != pinwatchd.ChangeResolved || ns[0].Alert.ID != as[0].ID || ns[0].Alert.ResolveReason == "" {
		t.Errorf("notifications %v, want the alert resolved with a reason", describe(ns))
	}
}

func TestRunnerRestartKeepsState(t *testing.T) {
	f := newRNFixture(t)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, RenotifyAfter: 24 * time.Hour, NotifyResolved: true}
	// A pin-set with no backup pin opens an alert at once.
	noBackup := f.target()
	noBackup.PinSets[0].Pins = noBackup.PinSets[0].Pins[:1]
	process := func(r *monitor.Runner, obs pinwatchd.Observation) {
		t.Helper()
		f.now = f.now.Add(time.Minute)
		obs.Time = f.now
		if err := r.Process(t.Context(), noBackup, []pinwatchd.Observation{obs}); err != nil {
			t.Fatalf("Process: %v", err)
		}
	}

	process(f.runner(pol, nil), f.served(f.pki.Leaf))
	as := f.openAlerts()
	if len(as) != 1 || as[0].Kind != pinwatchd.KindMissingBackupPin {
		t.Fatalf("alerts %+v, want missing_backup_pin", as)
	}
	backupID := as[0].ID
	if ns := f.take(); len(ns) != 1 || ns[0].Type != pinwatchd.ChangeOpened {
		t.Fatalf("notifications %v, want one opened", describe(ns))
	}
	process(f.runner(pol, nil), f.refused())
	if ns := f.take(); len(ns) != 0 {
		t.Fatalf("one failure below the threshold notified %v", describe(ns))
	}

	// Restart: the failure count survives, so the next failure is the
	// second in a row; the open alert is neither reopened nor forgotten.
	f.reopen()
	process(f.runner(pol, nil), f.refused())
	var failed *pinwatchd.Alert
	for _, a := range f.openAlerts() {
		if a.Kind == pinwatchd.KindConnectFailed {
			failed = &a
		}
	}
	if failed == nil {
		t.Fatalf("after a restart and a second failure in a row: alerts %+v, want connect_failed open", f.openAlerts())
	}
	if ns := f.take(); !slices.Equal(describe(ns), []string{"opened connect_failed"}) {
		t.Errorf("notifications after the restart %v, want only the connect_failed opening", describe(ns))
	}

	f.reopen()
	process(f.runner(pol, nil), f.refused())
	if ns := f.take(); len(ns) != 0 {
		t.Errorf("a second restart re-announced %v", describe(ns))
	}
	f.reopen()
	process(f.runner(pol, nil), f.served(f.pki.Leaf))
	as = f.openAlerts()
	if len(as) != 1 || as[0].ID != backupID || as[0].Kind != pinwatchd.KindMissingBackupPin {
		t.Errorf("open alerts after restarts %+v, want only missing_backup_pin with id %d", as, backupID)
	}
	if ns := f.take(); !slices.Equal(describe(ns), []string{"resolved connect_failed"}) {
		t.Errorf("notifications %v, want only the connect_failed resolve", describe(ns))
	}
}

func TestRunnerChainChanged(t *testing.T) {
	for _, notify := range []bool{true, false} {
		name := "notify_changes"
		if !notify {
			name = "quiet"
		}
		t.Run(name, func(t *testing.T) {
			f := newRNFixture(t)
			enqueued := 0
			r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true, NotifyChanges: notify}, &enqueued)
			f.round(r, f.served(f.pki.Leaf))
			if ns := f.take(); len(ns) != 0 {
				t.Fatalf("a healthy first probe notified %v", describe(ns))
			}
			rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
			f.round(r, f.served(rotated))
			ns := f.take()

			want := []string{"opened pin_mismatch"}
			if notify {
				want = append(want, "chain_changed key_rotated")
			}
			if got := describe(ns); !slices.Equal(got, want) {
				t.Fatalf("notifications %v, want %v", got, want)
			}
			if enqueued != len(want) {
				t.Errorf("Enqueued hook reported %d notifications, want %d", enqueued, len(want))
			}
			if notify {
				ev := ns[1].Event
				if ev.Target != "api" || ev.Address != rnAddr || ev.OldLeafPin != f.pki.Leaf.Pin().String() || ev.NewLeafPin != rotated.Pin().String() {
					t.Errorf("chain_changed notification = %+v, want api at %s from %s to %s", ev, rnAddr, f.pki.Leaf.Pin(), rotated.Pin())
				}
			}
			// The event is in the history either way.
			events, err := f.db.History(t.Context(), "api", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range events {
				found = found || (e.Event == pinwatchd.EventChainChanged && e.Class == pinwatchd.ChangeKeyRotated)
			}
			if !found {
				t.Errorf("history lacks the key rotation: %+v", events)
			}
		})
	}
}
