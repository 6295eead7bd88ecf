package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestParseSchedule(t *testing.T) {
	valid := []string{"*/15 * * * *", "@hourly", "@every 5m", "0 9 * * 1-5", "TZ=UTC 0 * * * *", "CRON_TZ=Europe/Berlin 30 2 * * *",
		"0 0 29 2 *", "0 0 30 2 1", "@every 2000000h"} // leap days only; Mondays too; longer than 2×interval fits in a Duration
	for _, spec := range valid {
		if err := CheckSchedule(spec); err != nil {
			t.Errorf("CheckSchedule(%q) = %v, want ok", spec, err)
		}
	}
	invalid := map[string]string{
		"":                       `schedule is empty`,
		"* * *":                  `schedule "* * *": expected exactly 5 fields`,
		"TZ=":                    `schedule "TZ=": a TZ= or CRON_TZ= prefix needs a zone, a space and then the schedule`,
		"TZ=UTC":                 `schedule "TZ=UTC": a TZ= or CRON_TZ= prefix needs a zone, a space and then the schedule`,
		"CRON_TZ= 0 * * * *":     `a TZ= or CRON_TZ= prefix needs a zone`,
		"TZ=Mars/Base 0 * * * *": `unknown time zone "Mars/Base"`,
		"61 * * * *":             `schedule "61 * * * *": end of range (61) above maximum (59)`,
		"@every 10ms":            `@every needs a duration of at least 1s`,
		"@fortnightly":           `schedule "@fortnightly": unrecognized descriptor`,
		"0 0 30 2 *":             `schedule "0 0 30 2 *" never fires: no date matches its day-of-month and month (such as February 30 or April 31)`,
		"0 0 31 4,6,9,11 *":      `schedule "0 0 31 4,6,9,11 *" never fires`,
		"CRON_TZ=UTC 0 0 30 2 *": `never fires`,
	}
	for spec, want := range invalid {
		err := CheckSchedule(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSchedule(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
}

func TestJitter(t *testing.T) {
	for _, iv := range []time.Duration{time.Minute, 15 * time.Minute, time.Hour} {
		limit := min(iv/10, 30*time.Second)
		seen := map[time.Duration]bool{}
		for _, name := range []string{"api", "www", "cdn", "auth", "pay", "mail"} {
			j := Jitter(name, iv)
			if j < 0 || j >= limit {
				t.Errorf("Jitter(%q, %v) = %v, want in [0, %v)", name, iv, j, limit)
			}
			if j != Jitter(name, iv) {
				t.Errorf("Jitter(%q, %v) is not stable", name, iv)
			}
			seen[j] = true
		}
		if len(seen) < 2 {
			t.Errorf("interval %v: every target got the same jitter %v", iv, seen)
		}
	}
	if j := Jitter("api", 5*time.Second); j != 0 {
		t.Errorf("Jitter for a 5s interval = %v, want 0", j)
	}
}

func TestIntervalOfSpecs(t *testing.T) {
	for spec, want := range map[string]time.Duration{"*/15 * * * *": 15 * time.Minute, "@hourly": time.Hour, "@every 90s": 90 * time.Second, "0 9 * * *": 24 * time.Hour} {
		s, err := parseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := Interval(s); got != want {
			t.Errorf("Interval(%q) = %v, want %v", spec, got, want)
		}
	}
}

// TestSchedulerHealthy checks /healthz's view of the scheduler: healthy
// right after start, unhealthy once two intervals and the largest jitter
// have passed without a run, and healthy for an interval of any length
// (twice 2,000,000 hours does not fit in a time.Duration).
func TestSchedulerHealthy(t *testing.T) {
	for _, tc := range []struct {
		spec        string
		overdueFrom time.Duration // after start; 0: never overdue within the checks below
	}{
		{"@every 1m", 2*time.Minute + maxJitter + time.Second},
		{"@hourly", 2*time.Hour + maxJitter + time.Second},
		{"@every 2000000h", 0},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s := NewScheduler(discardLogger(), 1, func(context.Context, *pinwatchd.Target) {})
			if s.Healthy(time.Now()) {
				t.Errorf("a scheduler that was never started is healthy")
			}
			if err := s.Start(t.Context(), tc.spec, []pinwatchd.Target{{Name: "api"}}); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(t.Context())
			start := time.Now()
			if !s.Healthy(start) {
				t.Errorf("Healthy right after Start = false, want true")
			}
			if !s.Healthy(start.Add(time.Minute)) {
				t.Errorf("Healthy a minute after Start = false, want true")
			}
			if tc.overdueFrom == 0 {
				if !s.Healthy(start.Add(1000000 * time.Hour)) {
					t.Errorf("Healthy 1,000,000 h after Start = false, want true (the interval is 2,000,000 h)")
				}
				return
			}
			if s.Healthy(start.Add(tc.overdueFrom)) {
				t.Errorf("Healthy %v after Start without a run = true, want false", tc.overdueFrom)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestSchedulerRuns checks, on a fake clock, that every target runs once at
// start-up and then once per interval, each shifted by its own jitter.
func TestSchedulerRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		runs := map[string][]time.Time{}
		start := time.Now()
		s := NewScheduler(discardLogger(), 4, func(_ context.Context, tg *pinwatchd.Target) {
			mu.Lock()
			runs[tg.Name] = append(runs[tg.Name], time.Now())
			mu.Unlock()
		})
		targets := []pinwatchd.Target{{Name: "api"}, {Name: "www"}, {Name: "hourly", Schedule: "@hourly"}}
		if err := s.Start(t.Context(), "*/10 * * * *", targets); err != nil {
			t.Fatal(err)
		}
		s.RunNow()
		time.Sleep(60*time.Minute + 59*time.Second)
		synctest.Wait()
		s.Stop(t.Context())
		mu.Lock()
		defer mu.Unlock()
		if n := len(runs["api"]); n != 7 {
			t.Errorf("api ran %d times in an hour at */10 (start-up included), want 7: %v", n, runs["api"])
		}
		if n := len(runs["hourly"]); n != 2 {
			t.Errorf("hourly ran %d times, want 2 (start-up and the hour)", n)
		}
		for name, rs := range runs {
			if !rs[0].Equal(start) {
				t.Errorf("%s: first run at %v, want at start-up %v", name, rs[0], start)
			}
			if name == "hourly" {
				continue
			}
			j := Jitter(name, 10*time.Minute)
			for _, r := range rs[1:] {
				if off := r.Sub(r.Truncate(10 * time.Minute)); off != j {
					t.Errorf("%s ran at %v, %v past the slot, want its jitter %v", name, r, off, j)
				}
			}
		}
	})
}

// TestSchedulerSkipsRunningTarget: a run that outlasts the interval makes the
// next one skip instead of probing the same target twice at once.
func TestSchedulerSkipsRunningTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, maxInFlight, runs atomic.Int32
		s := NewScheduler(discardLogger(), 4, func(ctx context.Context, _ *pinwatchd.Target) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			runs.Add(1)
			select {
			case <-time.After(150 * time.Second):
			case <-ctx.Done():
			}
		})
		if err := s.Start(t.Context(), "@every 1m", []pinwatchd.Target{{Name: "slow"}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		s.Stop(t.Context())
		if maxInFlight.Load() != 1 {
			t.Errorf("at most %d runs of one target overlapped, want 1", maxInFlight.Load())
		}
		if r := runs.Load(); r < 3 || r > 5 {
			t.Errorf("slow target ran %d times in 10 minutes with 150s runs, want 3 to 5", r)
		}
	})
}

// TestSchedulerConcurrencyAndPanics: concurrency bounds jobs in flight and a
// panicking job is recovered without stopping the others.
func TestSchedulerConcurrencyAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, maxInFlight, runs atomic.Int32
		s := NewScheduler(discardLogger(), 2, func(_ context.Context, tg *pinwatchd.Target) {
			runs.Add(1)
			if tg.Name == "boom" {
				panic("bad target")
			}
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			time.Sleep(time.Second)
		})
		targets := []pinwatchd.Target{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "boom"}}
		if err := s.Start(t.Context(), "@every 1m", targets); err != nil {
			t.Fatal(err)
		}
		s.RunNow()
		time.Sleep(150 * time.Second)
		synctest.Wait()
		s.Stop(t.Context())
		if maxInFlight.Load() > 2 {
			t.Errorf("%d jobs in flight, want at most 2", maxInFlight.Load())
		}
		if runs.Load() != 15 {
			t.Errorf("%d runs in 150s (start-up + 2 scheduled each for 5 targets), want 15", runs.Load())
		}
	})
}

// TestSchedulerStopCancelsAtDeadline: Stop waits for running jobs until its
// context is done, then cancels them.
func TestSchedulerStopCancelsAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScheduler(discardLogger(), 1, func(ctx context.Context, _ *pinwatchd.Target) {
			<-ctx.Done()
		})
		if err := s.Start(t.Context(), "@hourly", []pinwatchd.Target{{Name: "stuck"}}); err != nil {
			t.Fatal(err)
		}
		s.RunNow("stuck")
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		begin := time.Now()
		s.Stop(ctx)
		if took := time.Since(begin); took != 5*time.Second {
			t.Errorf("Stop took %v, want exactly the 5s deadline", took)
		}
	})
}

// TestSchedulerRoundOnFixedWorkers: a round of many targets neither adds
// a cron entry per target (targets with the same schedule and jitter
// share one) nor parks a goroutine per target waiting for a free worker,
// and still runs every target once.
func TestSchedulerRoundOnFixedWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, workers = 1000, 4
		release := make(chan struct{})
		var runs atomic.Int32
		s := NewScheduler(discardLogger(), workers, func(ctx context.Context, _ *pinwatchd.Target) {
			runs.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
		targets := make([]pinwatchd.Target, n)
		for i := range targets {
			targets[i].Name = fmt.Sprintf("t%04d", i)
		}
		before := runtime.NumGoroutine()
		if err := s.Start(t.Context(), "*/15 * * * *", targets); err != nil {
			t.Fatal(err)
		}
		if e := len(s.cron.Entries()); e > int(maxJitter/time.Second) {
			t.Errorf("%d cron entries for %d targets of one schedule, want at most one per jitter (%d)", e, n, maxJitter/time.Second)
		}
		time.Sleep(16 * time.Minute) // past the first slot and every jitter
		synctest.Wait()
		// Every worker is busy and the rest of the round waits: on a few
		// goroutines handing targets out, not one per target.
		if extra := runtime.NumGoroutine() - before; extra > workers+int(maxJitter/time.Second)+2 {
			t.Errorf("%d goroutines more than before Start while %d workers are busy, want at most a few beyond them", extra, workers)
		}
		close(release)
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := runs.Load(); got != n {
			t.Errorf("%d runs in the first slot, want every one of the %d targets once", got, n)
		}
		s.Stop(t.Context())
	})
}
