package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// Several handles on one database, as the daemon, `check --record` and the
// query commands are.
var concurrencyChecks = []check{
	{"TwoWriters", checkTwoWriters},
	{"RecordStaleCacheAcrossHandles", checkRecordStaleCache},
	{"RecordAfterAnotherWriter", checkRecordAfterAnotherWriter},
	{"AnnounceEventsRace", checkAnnounceEventsRace},
	{"ReadOnlyWhileWriting", checkReadOnlyWhileWriting},
	{"ReadOnlyRefusesWrites", checkReadOnlyRefusesWrites},
}

// Two handles writing at once: neither fails, nothing is lost.
func checkTwoWriters(t *testing.T, newDB Factory) {
	db := newDB(t)
	other := reopen(t, db)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	errs := make(chan error, 2)
	for w, s := range []storage.Store{db.Store, other} {
		go func() {
			for i := range 100 {
				o := okObs(fmt.Sprintf("w%d", w), "127.0.0.1:443", t0.Add(time.Duration(i)*time.Minute), c)
				if _, err := s.Record(t.Context(), []pinwatchd.Observation{o}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Record: %v", err)
		}
	}
	if got := db.Ints(t, `SELECT coalesce(sum(probe_count), 0) FROM spans`)[0][0]; got != 200 {
		t.Fatalf("probes stored = %d; want 200", got)
	}
}

// Another handle prunes a chain this one has cached: recording that chain
// again stores it anew.
func checkRecordStaleCache(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	addr := "127.0.0.1:443"
	record(t, db.Store, okObs("api", addr, t0, a))
	record(t, db.Store, okObs("api", addr, t0.Add(time.Hour), b))

	other := reopen(t, db)
	st, err := other.Prune(t.Context(), t0.Add(30*time.Minute))
	other.Close()
	if err != nil || st.Chains != 2 || st.Certs != 1 {
		t.Fatalf("Prune = %+v, %v; want a's served and verified chains and its leaf gone", st, err)
	}

	ev := record(t, db.Store, okObs("api", addr, t0.Add(2*time.Hour), a))
	if len(ev) != 1 || ev[0].Class != pinwatchd.ChangeKeyRotated {
		t.Fatalf("events = %+v, want one key_rotated", ev)
	}
	certs, err := db.Store.Certs(t.Context(), t0, nil)
	if err != nil || len(certs) != 1 || certs[0].LeafSHA256 != a.leaf().SHA256 {
		t.Fatalf("Certs = %+v, %v; want leaf %s", certs, err, a.leaf().SHA256)
	}
}

// Another handle (another process: `check --record` beside the daemon)
// records a rotation between two rounds of this one: this handle's next
// round, serving the old chain again, starts a span and is a change back,
// for all it remembers of its own rounds; an unchanged round after it
// extends the new span.
func checkRecordAfterAnotherWriter(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	round := func(s storage.Store, at time.Duration, c chain) []pinwatchd.Event {
		return record(t, s, okObs("api", "127.0.0.1:443", t0.Add(at), c), okObs("www", "127.0.0.2:443", t0.Add(at), a))
	}
	round(db.Store, 0, a)
	round(db.Store, time.Minute, a)

	other := reopen(t, db)
	if evs := round(other, 2*time.Minute, b); len(evs) != 1 || evs[0].Class != pinwatchd.ChangeKeyRotated {
		t.Fatalf("the other handle's round recorded %+v, want one key_rotated", summarize(evs))
	}
	other.Close()

	evs := round(db.Store, 3*time.Minute, a)
	if len(evs) != 1 || evs[0].Event != pinwatchd.EventChainChanged || evs[0].Address != "127.0.0.1:443" || evs[0].NewLeafSHA256 != a.leaf().SHA256 {
		t.Fatalf("the round after the other handle's recorded %+v, want the change back to the first leaf", summarize(evs))
	}
	round(db.Store, 4*time.Minute, a)
	want := [][]int64{
		{t0.Unix(), t0.Add(time.Minute).Unix(), 2},                          // api: a
		{t0.Add(2 * time.Minute).Unix(), t0.Add(2 * time.Minute).Unix(), 1}, // api: b, by the other handle
		{t0.Add(3 * time.Minute).Unix(), t0.Add(4 * time.Minute).Unix(), 2}, // api: a again
		{t0.Unix(), t0.Add(4 * time.Minute).Unix(), 5},                      // www: unchanged throughout
	}
	got := db.Ints(t, `SELECT s.first_seen, s.last_seen, s.probe_count FROM spans s
		JOIN addresses a ON a.id = s.address_id ORDER BY a.target, s.id`)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans (first seen, last seen, probes) = %v, want %v", got, want)
	}
}

// Two handles announcing the same events at once: each event reaches the
// outbox exactly once.
func checkAnnounceEventsRace(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	var evs []pinwatchd.Event
	for i := range 5 {
		evs = append(evs, rotation(t, db.Store, p, fmt.Sprintf("t%d", i), fmt.Sprintf("127.0.0.%d:443", i+1)))
	}
	other := reopen(t, db)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for _, s := range []storage.Store{db.Store, other, db.Store, other} {
		wg.Go(func() {
			for _, e := range evs {
				n, err := s.AnnounceEvents(t.Context(), []int64{e.ID}, []pinwatchd.Notification{eventNote(e)})
				if err != nil {
					t.Errorf("AnnounceEvents: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := outboxEvents(t, db.Store)
	if total != len(evs) || len(got) != len(evs) {
		t.Fatalf("racing announcements enqueued %d (outbox %v), want each of the %d events once", total, got, len(evs))
	}
	seen := map[int64]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("event %d enqueued twice", id)
		}
		seen[id] = true
	}
}

// A read-only handle queries while another handle writes.
func checkReadOnlyWhileWriting(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	chains := []chain{pkiChain(p.Leaf, p.Intermediate, p.Root), pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)}
	record(t, db.Store, okObs("t0", "127.0.0.1:443", t0, chains[0]))
	ro := openReadOnly(t, db)

	const rounds = 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	var writeErr error
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= rounds; i++ {
			var obs []pinwatchd.Observation
			for j := range 20 {
				obs = append(obs, okObs(fmt.Sprintf("t%d", j), "127.0.0.1:443", t0.Add(time.Duration(i)*time.Hour), chains[(i/10+j)%2]))
			}
			if _, err := db.Store.Record(t.Context(), obs); err != nil {
				writeErr = err
				return
			}
		}
	})
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		if _, err := ro.History(t.Context(), "", time.Time{}); err != nil {
			t.Fatalf("History while writing: %v", err)
		}
		if _, err := ro.Certs(t.Context(), t0, nil); err != nil {
			t.Fatalf("Certs while writing: %v", err)
		}
		if _, err := ro.LatestObservations(t.Context(), "t3"); err != nil {
			t.Fatalf("LatestObservations while writing: %v", err)
		}
	}
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("Record while reading: %v", writeErr)
	}
	// The reader sees everything the writer committed.
	hist, err := ro.History(t.Context(), "t5", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + rounds/10; len(hist) != want {
		t.Errorf("t5 history has %d events after %d reads, want %d", len(hist), reads, want)
	}
}

// Every method that writes refuses on a read-only handle, which still
// answers queries.
func checkReadOnlyRefusesWrites(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	record(t, db.Store, okObs("api", "127.0.0.1:443", t0, c))
	ro := openReadOnly(t, db)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios")
	for name, write := range map[string]func() error{
		"Record": func() error {
			_, err := ro.Record(ctx, []pinwatchd.Observation{okObs("api", "127.0.0.1:443", t0.Add(time.Hour), c)})
			return err
		},
		"Prune":      func() error { _, err := ro.Prune(ctx, t0); return err },
		"SaveAlerts": func() error { return ro.SaveAlerts(ctx, []pinwatchd.Alert{a}, nil) },
		"UpdateAlerts": func() error {
			return ro.UpdateAlerts(ctx, "api", func([]pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
				return []pinwatchd.Alert{a}, nil, nil
			})
		},
		"SaveNameState": func() error { return ro.SaveNameState(ctx, "api", "", pinwatchd.NameState{Unresolved: 1}) },
		"Delivered":     func() error { return ro.Delivered(ctx, 1) },
		"Retry":         func() error { return ro.Retry(ctx, 1, t0, "x") },
		"Park":          func() error { return ro.Park(ctx, 1, t0, "x") },
		"Requeue":       func() error { _, err := ro.Requeue(ctx, t0); return err },
		"SetThread":     func() error { return ro.SetThread(ctx, 1, "C1", "1.2") },
		"Claim": func() error {
			_, err := ro.Claim(ctx, "a", t0, t0.Add(time.Minute), 10)
			return err
		},
		"Release": func() error { return ro.Release(ctx, "a") },
		"Pause":   func() error { return ro.Pause(ctx, "", t0) },
		"AnnounceEvents": func() error {
			_, err := ro.AnnounceEvents(ctx, []int64{1}, nil)
			return err
		},
	} {
		if err := write(); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("%s on a read-only handle: %v, want ErrReadOnly", name, err)
		}
	}
	if err := ro.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if evs, err := ro.History(ctx, "api", time.Time{}); err != nil || len(evs) != 1 {
		t.Errorf("History = %d events, %v; want 1", len(evs), err)
	}
	if n := countRows(t, db, "alerts"); n != 0 {
		t.Errorf("a read-only handle stored %d alerts", n)
	}
}
