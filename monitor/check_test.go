package monitor

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// progressLog records the calls of Check's progress callback.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]int // {done, total}
}

func (l *progressLog) record(done, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, [2]int{done, total})
}

func (l *progressLog) get() [][2]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// wantProgress is one call per target, done counting 1..n.
func wantProgress(n int) [][2]int {
	var out [][2]int
	for i := 1; i <= n; i++ {
		out = append(out, [2]int{i, n})
	}
	return out
}

// namedTarget is an HTTP-probed target named name for host "localhost" at
// addr, with the given pins as its inline pin-set.
func namedTarget(name, addr string, pins ...pinwatchd.Pin) pinwatchd.Target {
	tg := *target(addr)
	tg.Name = name
	if len(pins) > 0 {
		tg.PinSets = []pinwatchd.PinSet{{Name: pinwatchd.PinSetInline, Pins: pins}}
	}
	return tg
}

// hasKind reports whether fs holds a finding of kind.
func hasKind(fs []pinwatchd.Finding, kind pinwatchd.Kind) bool {
	for _, f := range fs {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	checkGoroutines(t)
	pki := testpki.New(t)
	spare := testpki.KeyPin(t, pki.Spare)
	hsts := map[string]string{"Strict-Transport-Security": "max-age=31536000"}
	// The first target answers only once the others are done, so that it
	// finishes last: its report must still come first.
	release := make(chan struct{})
	var releaseOnce sync.Once
	slow := testpki.Serve(t, pki.TLS(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Strict-Transport-Security", hsts["Strict-Transport-Security"])
	}))
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	fast := testpki.Serve(t, pki.TLS(), testpki.HeaderHandler(hsts))
	targets := []pinwatchd.Target{
		namedTarget("slow", slow.Addr, pki.Leaf.Pin(), spare), // pinned with a backup
		namedTarget("fast", fast.Addr, pki.Leaf.Pin()),        // no backup pin
	}

	fixed := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 7200))
	p := &Prober{Timeout: 10 * time.Second, Roots: pki.RootPool()}
	var progress progressLog
	reports := Check(t.Context(), p, targets, len(targets), pinwatchd.DefaultThresholds, func() time.Time { return fixed }, func(done, total int) {
		progress.record(done, total)
		if done == len(targets)-1 {
			releaseOnce.Do(func() { close(release) })
		}
	})

	if len(reports) != len(targets) {
		t.Fatalf("Check returned %d reports, want %d", len(reports), len(targets))
	}
	for i, tg := range targets {
		r := reports[i]
		if r.Name != tg.Name || r.Host != tg.Host || r.Port != tg.Port {
			t.Errorf("report %d is of %s %s:%d, want %s %s:%d", i, r.Name, r.Host, r.Port, tg.Name, tg.Host, tg.Port)
		}
		if !r.ProbedAt.Equal(fixed) || r.ProbedAt.Location() != time.UTC {
			t.Errorf("report %d ProbedAt = %v, want %v in UTC", i, r.ProbedAt, fixed)
		}
		if len(r.Addresses) != 1 || r.Addresses[0].Address != tg.Addresses[0] || r.Addresses[0].Error != nil {
			t.Errorf("report %d addresses = %+v, want one successful probe of %s", i, r.Addresses, tg.Addresses[0])
		}
		if r.Findings == nil {
			t.Errorf("report %d has nil findings, want a list", i)
		}
	}
	if hasKind(reports[0].Findings, pinwatchd.KindMissingBackupPin) || hasKind(reports[0].Findings, pinwatchd.KindPinMismatch) {
		t.Errorf("slow has pin findings %+v, want none: its pin-set matches and has a backup", reports[0].Findings)
	}
	if !hasKind(reports[1].Findings, pinwatchd.KindMissingBackupPin) {
		t.Errorf("fast findings = %+v, want missing_backup_pin", reports[1].Findings)
	}
	if got := progress.get(); !reflect.DeepEqual(got, wantProgress(len(targets))) {
		t.Errorf("progress calls = %v, want %v", got, wantProgress(len(targets)))
	}
}

func TestCheckWorkers(t *testing.T) {
	checkGoroutines(t)
	pki := testpki.New(t)
	srv := testpki.Serve(t, pki.TLS(), nil)
	var targets []pinwatchd.Target
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		targets = append(targets, namedTarget(name, srv.Addr))
	}
	for _, workers := range []int{-1, 0, 1, 2, 5, 50} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			var progress progressLog
			p := &Prober{Timeout: 10 * time.Second, Roots: pki.RootPool()}
			reports := Check(t.Context(), p, targets, workers, pinwatchd.DefaultThresholds, time.Now, progress.record)
			var names []string
			for _, r := range reports {
				names = append(names, r.Name)
			}
			if !slices.Equal(names, []string{"a", "b", "c", "d", "e"}) {
				t.Errorf("reports are of %q, want a b c d e", names)
			}
			if got := progress.get(); !reflect.DeepEqual(got, wantProgress(len(targets))) {
				t.Errorf("progress calls = %v, want %v", got, wantProgress(len(targets)))
			}
		})
	}
	t.Run("no targets", func(t *testing.T) {
		reports := Check(t.Context(), &Prober{}, nil, 4, pinwatchd.DefaultThresholds, time.Now, func(int, int) { t.Error("progress called without targets") })
		if len(reports) != 0 {
			t.Errorf("Check of no targets = %+v, want none", reports)
		}
	})
}

func TestCheckCancelled(t *testing.T) {
	checkGoroutines(t)
	pki := testpki.New(t)
	srv := testpki.Serve(t, pki.TLS(), nil)
	targets := []pinwatchd.Target{namedTarget("a", srv.Addr), namedTarget("b", srv.Addr), namedTarget("c", srv.Addr)}
	p := &Prober{Timeout: 10 * time.Second, Roots: pki.RootPool()}

	t.Run("before the start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		reports := Check(ctx, p, targets, 2, pinwatchd.DefaultThresholds, time.Now, func(done, total int) {
			t.Errorf("progress(%d, %d) called although nothing started", done, total)
		})
		if len(reports) != len(targets) {
			t.Fatalf("Check returned %d reports, want %d", len(reports), len(targets))
		}
		for i, r := range reports {
			if !reflect.DeepEqual(r, pinwatchd.Report{}) {
				t.Errorf("report %d = %+v, want an empty report", i, r)
			}
		}
	})

	t.Run("after the first target", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var progress progressLog
		// One worker: the first target is done when the context is
		// cancelled; the second may already be handed over, the third is
		// never started.
		reports := Check(ctx, p, targets, 1, pinwatchd.DefaultThresholds, time.Now, func(done, total int) {
			progress.record(done, total)
			if done == 1 {
				cancel()
			}
		})
		if len(reports) != len(targets) {
			t.Fatalf("Check returned %d reports, want %d", len(reports), len(targets))
		}
		if r := reports[0]; r.Name != "a" || len(r.Addresses) != 1 || r.Addresses[0].Error != nil {
			t.Errorf("report of the finished target = %+v, want a successful probe of a", r)
		}
		if !reflect.DeepEqual(reports[2], pinwatchd.Report{}) {
			t.Errorf("report of the unstarted target = %+v, want an empty report", reports[2])
		}
		got := progress.get()
		if len(got) == 0 || len(got) > 2 || !reflect.DeepEqual(got, wantProgress(3)[:len(got)]) {
			t.Errorf("progress calls = %v, want (1, 3) and at most (2, 3) after it", got)
		}
	})
}
