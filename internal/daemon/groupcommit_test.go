package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// The group recorder's tests write to a real SQLite file through a
// countingStore, which keeps the size and the targets of every Record
// call that reaches the database.

// recordCall is one Record call that reached the database.
type recordCall struct {
	obs     int
	targets []string // sorted, once each
	failed  bool
}

// countingStore passes Record to a real store and keeps every call.
type countingStore struct {
	db *storage.DB
	mu sync.Mutex
	c  []recordCall
}

func (s *countingStore) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	evs, err := s.db.Record(ctx, obs)
	var names []string
	for i := range obs {
		names = append(names, obs[i].Target)
	}
	slices.Sort(names)
	s.mu.Lock()
	s.c = append(s.c, recordCall{obs: len(obs), targets: slices.Compact(names), failed: err != nil})
	s.mu.Unlock()
	return evs, err
}

func (s *countingStore) PendingTargets(ctx context.Context) ([]string, error) {
	return s.db.PendingTargets(ctx)
}

func (s *countingStore) calls() []recordCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.c)
}

// openCounting opens a SQLite file in a temporary directory.
func openCounting(t *testing.T) *countingStore {
	t.Helper()
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "pinwatchd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &countingStore{db: db}
}

// startRecorder starts a group recorder on s with the given window and
// batch size; it is closed at the end of the test.
func startRecorder(t *testing.T, s recorder, window time.Duration, maxObs int, logs *logBuffer) *groupRecorder {
	t.Helper()
	g := newGroupRecorder(s, logs.logger())
	g.window, g.maxObs = window, maxObs
	// Set before start, or from the test's goroutine before any Record.
	g.start(context.WithoutCancel(t.Context()))
	t.Cleanup(func() { g.Close(context.Background()) })
	return g
}

// chainOf is the served chain of leaf under the PKI's intermediate.
func chainOf(p *testpki.PKI, leaf *testpki.Cert) []pinwatchd.Cert {
	return []pinwatchd.Cert{pinwatchd.CertFromX509(leaf.Cert), pinwatchd.CertFromX509(p.Intermediate.Cert)}
}

// round is a successful round of target over n addresses serving chain.
func round(target string, n int, at time.Time, chain []pinwatchd.Cert) []pinwatchd.Observation {
	obs := make([]pinwatchd.Observation, n)
	for i := range obs {
		obs[i] = pinwatchd.Observation{
			Target: target, Address: fmt.Sprintf("127.0.%d.1:443", i+1), SNI: "localhost", Time: at, TLSVersion: "TLS 1.3",
			ServedChain: chain, VerifiedChain: chain,
			Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true},
		}
	}
	return obs
}

// addressesOf returns the sorted addresses of the events of type typ.
func addressesOf(evs []pinwatchd.Event, typ pinwatchd.EventType) []string {
	var out []string
	for _, e := range evs {
		if e.Event == typ {
			out = append(out, e.Address)
		}
	}
	slices.Sort(out)
	return out
}

// addresses returns the sorted addresses of obs.
func addresses(obs []pinwatchd.Observation) []string {
	var out []string
	for i := range obs {
		out = append(out, obs[i].Address)
	}
	slices.Sort(out)
	return out
}

// recordAll records every round at once, each from its own goroutine as
// the scheduler's jobs do, and returns each caller's events and error.
// With check set, each caller checks right after Record returns.
func recordAll(g *groupRecorder, rounds [][]pinwatchd.Observation, check func(i int, evs []pinwatchd.Event, err error)) {
	var wg sync.WaitGroup
	for i, obs := range rounds {
		wg.Go(func() {
			evs, err := g.Record(context.Background(), obs)
			check(i, evs, err)
		})
	}
	wg.Wait()
}

// Many targets record at once: each caller gets back exactly the events
// of its own addresses, and finds them in the database as soon as Record
// returns; the rounds share transactions of at most 256 observations and
// groupMaxRounds rounds, and no target's round is split between two of
// them.
func TestGroupRecorderConcurrentCallers(t *testing.T) {
	s := openCounting(t)
	var logs logBuffer
	g := startRecorder(t, s, groupWindow, groupMaxObs, &logs)
	p := testpki.New(t)
	first, rotated := chainOf(p, p.Leaf), chainOf(p, p.Intermediate.Leaf(t, testpki.Options{}))
	const targets = 300
	t0 := time.Now().UTC().Truncate(time.Second)
	rounds := make([][]pinwatchd.Observation, targets)
	for i := range rounds {
		rounds[i] = round(fmt.Sprintf("target-%03d", i), 1+i%3, t0, first)
	}

	recordAll(g, rounds, func(i int, evs []pinwatchd.Event, err error) {
		name := rounds[i][0].Target
		if err != nil {
			t.Errorf("%s: Record = %v", name, err)
			return
		}
		for _, e := range evs {
			if e.Target != name {
				t.Errorf("%s got an event of %s: %+v", name, e.Target, e)
			}
		}
		if got, want := addressesOf(evs, pinwatchd.EventFirstSeen), addresses(rounds[i]); !slices.Equal(got, want) || len(evs) != len(want) {
			t.Errorf("%s: events %+v, want first_seen of %q", name, evs, want)
		}
		// Answered only once committed: the history already holds it.
		hist, err := s.db.History(context.Background(), name, time.Time{})
		if err != nil {
			t.Errorf("history of %s: %v", name, err)
		} else if got := addressesOf(hist, pinwatchd.EventFirstSeen); !slices.Equal(got, addresses(rounds[i])) {
			t.Errorf("%s: history right after Record has first_seen of %q, want %q", name, got, addresses(rounds[i]))
		}
	})
	checkBatches(t, s.calls(), targets)

	// The next round: every fifth target serves a new leaf. Only its
	// caller hears of the change, for each of its addresses.
	before := len(s.calls())
	for i := range rounds {
		chain := first
		if i%5 == 0 {
			chain = rotated
		}
		rounds[i] = round(rounds[i][0].Target, len(rounds[i]), t0.Add(time.Hour), chain)
	}
	recordAll(g, rounds, func(i int, evs []pinwatchd.Event, err error) {
		name := rounds[i][0].Target
		var want []string
		if i%5 == 0 {
			want = addresses(rounds[i])
		}
		if got := addressesOf(evs, pinwatchd.EventChainChanged); err != nil || !slices.Equal(got, want) || len(evs) != len(want) {
			t.Errorf("%s: Record = %+v, %v; want chain_changed at %q only", name, evs, err, want)
		}
	})
	checkBatches(t, s.calls()[before:], targets)
}

// checkBatches checks the Record calls of one round of every target: each
// at most groupMaxObs observations and groupMaxRounds targets, each target
// in exactly one, fewer transactions than targets.
func checkBatches(t *testing.T, calls []recordCall, targets int) {
	t.Helper()
	seen := map[string]int{}
	for _, c := range calls {
		if c.obs > groupMaxObs {
			t.Errorf("a transaction of %d observations, want at most %d", c.obs, groupMaxObs)
		}
		if len(c.targets) > groupMaxRounds {
			t.Errorf("a transaction of %d rounds, want at most %d", len(c.targets), groupMaxRounds)
		}
		if c.failed {
			t.Errorf("a transaction of %d observations failed", c.obs)
		}
		for _, name := range c.targets {
			seen[name]++
		}
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("the round of %s was written by %d transactions, want 1", name, n)
		}
	}
	if len(seen) != targets {
		t.Errorf("%d targets recorded, want %d", len(seen), targets)
	}
	if len(calls) >= targets {
		t.Errorf("%d transactions for one round of %d targets: not batched", len(calls), targets)
	}
}

// A full batch, of observations or of rounds, is committed at once,
// without waiting for its window.
func TestGroupRecorderFullBatchCommitsAtOnce(t *testing.T) {
	for _, c := range []struct {
		name              string
		maxObs, maxRounds int
	}{
		{"observations", 4, groupMaxRounds},
		{"rounds", groupMaxObs, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openCounting(t)
			var logs logBuffer
			g := startRecorder(t, s, time.Hour, c.maxObs, &logs)
			g.maxRounds = c.maxRounds
			p := testpki.New(t)
			t0 := time.Now().UTC().Truncate(time.Second)
			rounds := make([][]pinwatchd.Observation, 8)
			for i := range rounds {
				rounds[i] = round(fmt.Sprintf("t%d", i), 1, t0, chainOf(p, p.Leaf))
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				recordAll(g, rounds, func(i int, evs []pinwatchd.Event, err error) {
					if err != nil || len(evs) != 1 {
						t.Errorf("t%d: Record = %+v, %v; want its first_seen", i, evs, err)
					}
				})
			}()
			select {
			case <-done:
			case <-time.After(waitLimit):
				t.Fatalf("8 rounds of one observation not committed within %s by batches of 4 (window 1h)", waitLimit)
			}
			for _, call := range s.calls() {
				if call.obs != 4 {
					t.Errorf("a transaction of %d observations, want 4", call.obs)
				}
			}
		})
	}
}

// A round that cannot be stored fails only its own caller: the shared
// transaction is rolled back and every round is recorded alone.
func TestGroupRecorderIsolatesAFailingRound(t *testing.T) {
	s := openCounting(t)
	var logs logBuffer
	const callers = 10
	g := startRecorder(t, s, time.Hour, callers*2, &logs) // committed when all have joined
	p := testpki.New(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	rounds := make([][]pinwatchd.Observation, callers)
	for i := range rounds {
		rounds[i] = round(fmt.Sprintf("t%d", i), 2, t0, chainOf(p, p.Leaf))
	}
	// A certificate never stored, without its DER: storing it fails
	// inside the transaction, after the rounds before it were written.
	bad := chainOf(p, p.Intermediate.Leaf(t, testpki.Options{}))
	bad[0].DER = nil
	rounds[callers/2][1].ServedChain = bad
	badName := rounds[callers/2][0].Target

	recordAll(g, rounds, func(i int, evs []pinwatchd.Event, err error) {
		name := rounds[i][0].Target
		if name == badName {
			if err == nil || !strings.Contains(err.Error(), badName) {
				t.Errorf("%s: Record = %v, want an error naming it", name, err)
			}
			return
		}
		if err != nil || len(addressesOf(evs, pinwatchd.EventFirstSeen)) != 2 {
			t.Errorf("%s: Record = %+v, %v; want first_seen of both its addresses", name, evs, err)
		}
	})

	calls := s.calls()
	if len(calls) != 1+callers || calls[0].obs != 2*callers || !calls[0].failed {
		t.Fatalf("Record calls %+v, want one failed transaction of all %d observations, then one per round", calls, 2*callers)
	}
	for i := range rounds {
		hist, err := s.db.History(t.Context(), rounds[i][0].Target, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if rounds[i][0].Target == badName {
			want = 0 // nothing half-written
		}
		if n := len(addressesOf(hist, pinwatchd.EventFirstSeen)); n != want {
			t.Errorf("%s: %d addresses in the history, want %d", rounds[i][0].Target, n, want)
		}
	}
	if len(logs.find(t, map[string]string{"msg": "group commit failed; recording each target's round alone", "level": "WARN"})) != 1 {
		t.Errorf("no warning about the failed group commit:\n%s", logs.String())
	}
}

// A target recorded twice in a row goes into two transactions: the
// second round waits for the next batch.
func TestGroupRecorderSameTargetTwice(t *testing.T) {
	s := openCounting(t)
	var logs logBuffer
	g := startRecorder(t, s, time.Hour, groupMaxObs, &logs)
	joined := make(chan int, 4)
	g.joined = func(n int) { joined <- n }
	p := testpki.New(t)
	t0 := time.Now().UTC().Truncate(time.Second)

	firstDone := make(chan error, 1)
	go func() {
		_, err := g.Record(context.Background(), round("twice", 1, t0, chainOf(p, p.Leaf)))
		firstDone <- err
	}()
	<-joined
	secondDone := make(chan error, 1)
	go func() {
		_, err := g.Record(context.Background(), round("twice", 1, t0.Add(time.Minute), chainOf(p, p.Leaf)))
		secondDone <- err
	}()
	select {
	case err := <-firstDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("the first round was not committed within %s of the second round of its target", waitLimit)
	}
	<-joined
	g.Close(t.Context())
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	if calls := s.calls(); len(calls) != 2 || calls[0].obs != 1 || calls[1].obs != 1 {
		t.Errorf("Record calls %+v, want two of one observation", calls)
	}
}

// Close commits the pending batch (its callers get their events), later
// rounds are refused, and the recorder's goroutine is gone.
func TestGroupRecorderFlushesAtClose(t *testing.T) {
	s := openCounting(t)
	base := runtime.NumGoroutine()
	var logs logBuffer
	g := newGroupRecorder(s, logs.logger())
	g.window = time.Hour
	joined := make(chan int, 8)
	g.joined = func(n int) { joined <- n }
	g.start(context.Background())
	p := testpki.New(t)
	t0 := time.Now().UTC().Truncate(time.Second)

	const callers = 5
	results := make(chan error, callers)
	for i := range callers {
		go func() {
			evs, err := g.Record(context.Background(), round(fmt.Sprintf("t%d", i), 1, t0, chainOf(p, p.Leaf)))
			if err == nil && len(evs) != 1 {
				err = fmt.Errorf("t%d: %d events, want its first_seen", i, len(evs))
			}
			results <- err
		}()
	}
	for n := 0; n < callers; n = <-joined {
	}
	g.Close(t.Context())
	for range callers {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if calls := s.calls(); len(calls) != 1 || calls[0].obs != callers {
		t.Errorf("Record calls %+v, want one of %d observations, at Close", calls, callers)
	}
	if _, err := g.Record(t.Context(), round("late", 1, t0, chainOf(p, p.Leaf))); !errors.Is(err, errRecorderClosed) {
		t.Errorf("Record after Close = %v, want %v", err, errRecorderClosed)
	}
	g.Close(t.Context()) // idempotent
	waitGoroutines(t, base)
}

// A round waiting for its commit has given back its probe slot: the next
// target can be probed meanwhile.
func TestGroupRecorderGivesBackTheProbeSlot(t *testing.T) {
	s := openCounting(t)
	var logs logBuffer
	g := startRecorder(t, s, time.Hour, groupMaxObs, &logs)
	joined := make(chan int, 1)
	g.joined = func(n int) { joined <- n }
	p := testpki.New(t)
	slots := make(probeSlots, 1)

	ctx, release, err := slots.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := g.Record(ctx, round("waiting", 1, time.Now().UTC(), chainOf(p, p.Leaf)))
		done <- err
	}()
	<-joined
	actx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	_, release2, err := slots.acquire(actx)
	if err != nil {
		t.Fatalf("no probe slot while the only other job waits for its commit: %v", err)
	}
	release2()
	release() // a second release of the first slot changes nothing
	if len(slots) != 0 {
		t.Errorf("%d slots taken after every release, want 0", len(slots))
	}
	g.Close(t.Context())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// waitGoroutines waits until no more goroutines run than base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines still running, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pendingCounter is a store whose PendingEvents calls are counted.
type pendingCounter struct {
	store
	calls atomic.Int64
}

func (s *pendingCounter) PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error) {
	s.calls.Add(1)
	return s.store.PendingEvents(ctx, target)
}

// The group commit asks the store once per batch which targets have chain
// changes to announce: the runners of the others get none without a query
// of their own, while a rotation committed in the batch, and one that
// `check --record` (another handle) stored before it, are still found.
// A rotation stored after a round's commit is found at its next round.
func TestGroupRecorderAsksForPendingChangesOncePerBatch(t *testing.T) {
	s := openCounting(t)
	var logs logBuffer
	g := startRecorder(t, s, 50*time.Millisecond, groupMaxObs, &logs)
	counted := &pendingCounter{store: s.db}
	gs := groupStore{store: counted, rec: g}
	p := testpki.New(t)
	first, rotated := chainOf(p, p.Leaf), chainOf(p, p.Intermediate.Leaf(t, testpki.Options{}))
	t0 := time.Now().UTC().Truncate(time.Second)
	names := []string{"calm-1", "calm-2", "calm-3", "rotates", "checked"}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	roundOf := func(name string, h int) []pinwatchd.Observation {
		c := first
		if name == "rotates" && h >= 1 {
			c = rotated
		}
		return round(name, 1, at(h), c)
	}
	// pending runs one round of every target through gs as the runners
	// do (Record, then PendingEvents) and returns the targets that got
	// events to announce.
	pending := func(h int) []string {
		var (
			mu  sync.Mutex
			got []string
			wg  sync.WaitGroup
		)
		for _, name := range names {
			wg.Go(func() {
				if _, err := gs.Record(t.Context(), roundOf(name, h)); err != nil {
					t.Errorf("Record %s: %v", name, err)
					return
				}
				evs, err := gs.PendingEvents(t.Context(), name)
				if err != nil {
					t.Errorf("PendingEvents %s: %v", name, err)
				}
				if len(evs) > 0 {
					mu.Lock()
					got = append(got, name)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(got)
		return got
	}
	pending(0) // first sightings: nothing to announce
	counted.calls.Store(0)

	// `check --record` stores a rotation of "checked" from another handle
	// before the round: it is found in the same round.
	other, err := storage.Open(t.Context(), s.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Record(t.Context(), round("checked", 1, at(1).Add(-time.Minute), rotated)); err != nil {
		t.Fatal(err)
	}
	if got, want := pending(1), []string{"checked", "rotates"}; !slices.Equal(got, want) {
		t.Fatalf("round 1 found changes to announce of %q, want %q", got, want)
	}
	if n := counted.calls.Load(); n != 2 {
		t.Errorf("round 1 asked PendingEvents %d times, want 2 (only the targets with changes)", n)
	}

	// Nothing is announced (the runner would mark them): they stay
	// pending, and the next round finds them again.
	counted.calls.Store(0)
	if got, want := pending(2), []string{"checked", "rotates"}; !slices.Equal(got, want) {
		t.Errorf("round 2 found changes to announce of %q, want %q", got, want)
	}
	evs, err := s.db.PendingEvents(t.Context(), "rotates")
	if err != nil || len(evs) != 1 {
		t.Fatalf("PendingEvents(rotates) = %+v, %v", evs, err)
	}
	// A change stored after a round's commit, before its runner asks,
	// waits for the next round.
	if _, err := gs.Record(t.Context(), roundOf("calm-1", 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Record(t.Context(), round("calm-1", 1, at(3).Add(time.Minute), rotated)); err != nil {
		t.Fatal(err)
	}
	if evs, err := gs.PendingEvents(t.Context(), "calm-1"); err != nil || len(evs) != 0 {
		t.Errorf("PendingEvents(calm-1) right after a commit that found none = %+v, %v; want none", evs, err)
	}
	if got := pending(4); !slices.Contains(got, "calm-1") {
		t.Errorf("the next round found changes to announce of %q, want calm-1 among them", got)
	}
}
