package monitor

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// TestRunNowLargeFleet: the start-up round of a large fleet runs every
// target once, at most concurrency at a time, without a goroutine (and its
// stack) per waiting target.
func TestRunNowLargeFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const fleet, concurrency = 300, 3
		var inFlight, maxInFlight atomic.Int32
		ran := make([]atomic.Int32, fleet)
		s := NewScheduler(discardLogger(), concurrency, func(_ context.Context, tg *pinwatchd.Target) {
			var i int
			fmt.Sscanf(tg.Name, "t%d", &i)
			ran[i].Add(1)
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			time.Sleep(time.Second)
		})
		targets := make([]pinwatchd.Target, fleet)
		for i := range targets {
			targets[i].Name = fmt.Sprintf("t%d", i)
		}
		if err := s.Start(t.Context(), "@every 1h", targets); err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		s.RunNow()
		synctest.Wait() // the first jobs are sleeping, the rest waiting
		if extra := runtime.NumGoroutine() - before; extra > 4*concurrency {
			t.Errorf("%d goroutines started for the start-up round of %d targets, want about %d", extra, fleet, concurrency)
		}
		time.Sleep(fleet/concurrency*time.Second + time.Second)
		synctest.Wait()
		s.Stop(t.Context())
		if maxInFlight.Load() > concurrency {
			t.Errorf("%d jobs in flight, want at most %d", maxInFlight.Load(), concurrency)
		}
		for i := range ran {
			if n := ran[i].Load(); n != 1 {
				t.Fatalf("target t%d ran %d times in the start-up round, want once", i, n)
			}
		}
	})
}
